//! Several expectation files merged into one, each table declared once and each setting set
//! once (or the same way).

use super::*;
use crate::schema::model::TableKey;

/// The files, for errors that involve places in two of them.
pub(super) struct MergeFiles<'a> {
    files: &'a [ErrorFile],
    ids: Vec<FileId>,
}

impl MergeFiles<'_> {
    pub(super) fn file(&self, id: FileId) -> &ErrorFile {
        let index = self
            .ids
            .iter()
            .position(|candidate| *candidate == id)
            .expect("every span being merged points into a file being merged");
        &self.files[index]
    }

    /// An error at `second` that also shows `first`, in the same file or another.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn two_places(
        &self,
        kind: ErrorKind,
        second: &Span,
        first: &Span,
        message: String,
        second_label: &str,
        first_label: &str,
        help: &str,
    ) -> Error {
        let range = |span: &Span| span.range.start as usize..span.range.end as usize;
        let error = Error::at(
            kind,
            self.file(second.file),
            range(second),
            message,
            second_label,
            Some(help.to_owned()),
        );
        if first.file == second.file {
            error.also_at(range(first), first_label)
        } else {
            let first_file = self.file(first.file);
            error.also_in(
                first_file,
                range(first),
                format!("the other place is in {}", first_file.display),
                first_label,
            )
        }
    }
}

/// Merges the files' expectations, in the order given: one default schema, one `heads`, every
/// table once.
pub(crate) fn merge(
    parsed: Vec<FileExpectations>,
    files: &[ErrorFile],
) -> Result<Expectations, Error> {
    let places = MergeFiles {
        files,
        ids: parsed.iter().map(|file| file.file_id).collect(),
    };

    let mut schema: Option<(String, EntrySpans)> = None;
    for (name, spans) in parsed.iter().filter_map(|file| file.schema.as_ref()) {
        match &schema {
            Some((first, first_spans)) if first != name => {
                return Err(places.two_places(
                    ErrorKind::ConflictingSetting,
                    &spans.value,
                    &first_spans.value,
                    format!("`schema` is set to `{name}` here but to `{first}` in another place"),
                    "set here",
                    "and set differently here",
                    "set the default schema once, in one file",
                ));
            }
            Some(_) => {}
            None => schema = Some((name.clone(), spans.clone())),
        }
    }
    let default_schema = schema
        .as_ref()
        .map_or_else(|| "public".to_owned(), |(name, _)| name.clone());

    let mut heads: Option<HeadsExpectation> = None;
    for candidate in parsed.iter().filter_map(|file| file.heads.as_ref()) {
        match &heads {
            Some(first) if first.allowed != candidate.allowed => {
                return Err(places.two_places(
                    ErrorKind::ConflictingSetting,
                    &candidate.spans.value,
                    &first.spans.value,
                    "`heads` is set differently in two places".to_owned(),
                    "set here",
                    "and set differently here",
                    "set `heads` once, in one file",
                ));
            }
            Some(_) => {}
            None => heads = Some(candidate.clone()),
        }
    }

    let qualify = |written: &WrittenTableName| TableNameAt {
        schema: written
            .schema
            .clone()
            .unwrap_or_else(|| default_schema.clone()),
        name: written.name.clone(),
        span: written.span.clone(),
    };

    let mut sequences: Option<(SequencesExpectation, EntrySpans)> = None;
    for (read, spans) in parsed.iter().filter_map(|file| file.sequences.as_ref()) {
        let this = match read {
            ReadSequences::All => SequencesExpectation::All,
            ReadSequences::None => SequencesExpectation::None,
            ReadSequences::Tables(tables) => {
                SequencesExpectation::Tables(tables.iter().map(qualify).collect())
            }
        };
        sequences = Some(match sequences.take() {
            None => (this, spans.clone()),
            // Lists from several files add up.
            Some((SequencesExpectation::Tables(mut first), first_spans)) => match this {
                SequencesExpectation::Tables(more) => {
                    first.extend(more);
                    (SequencesExpectation::Tables(first), first_spans)
                }
                _ => {
                    return Err(places.two_places(
                        ErrorKind::ConflictingSetting,
                        &spans.value,
                        &first_spans.value,
                        "`sequences` is set differently in two places".to_owned(),
                        "set here",
                        "and set differently here",
                        "set `sequences` once, in one file",
                    ));
                }
            },
            Some((first, first_spans)) => {
                if first != this {
                    return Err(places.two_places(
                        ErrorKind::ConflictingSetting,
                        &spans.value,
                        &first_spans.value,
                        "`sequences` is set differently in two places".to_owned(),
                        "set here",
                        "and set differently here",
                        "set `sequences` once, in one file",
                    ));
                }
                (first, first_spans)
            }
        });
    }

    let mut tables: Vec<TableExpectation> = Vec::new();
    let mut table_index: HashMap<TableKey, usize> = HashMap::new();
    let mut severity: Vec<SeverityOverride> = Vec::new();
    let mut ignore = Vec::new();
    for file in parsed {
        for read in file.tables {
            let mut table = read.table;
            table.schema = read
                .written_schema
                .unwrap_or_else(|| default_schema.clone());
            let key = TableKey::new(table.schema.clone(), table.name.clone());
            if let Some(&first) = table_index.get(&key) {
                let first: &TableExpectation = &tables[first];
                return Err(places.two_places(
                    ErrorKind::DuplicateTable,
                    &table.spans.key,
                    &first.spans.key,
                    format!("table {} is declared twice", table.qualified_name()),
                    "declared again here",
                    "first declared here",
                    "merge the two entries into one",
                ));
            }
            table_index.insert(key, tables.len());
            tables.push(table);
        }
        for entry in file.severity {
            if let Some(first) = severity.iter().find(|seen| seen.rule == entry.rule) {
                if first.severity != entry.severity {
                    return Err(places.two_places(
                        ErrorKind::ConflictingSetting,
                        &entry.spans.value,
                        &first.spans.value,
                        format!(
                            "the severity of `{}` is set to {} here but to {} in another place",
                            entry.rule, entry.severity, first.severity
                        ),
                        "set here",
                        "and set differently here",
                        "set each rule's severity once",
                    ));
                }
                continue;
            }
            severity.push(entry);
        }
        for read in file.ignore {
            let mut entry = read.entry;
            entry.table = read.table.as_ref().map(|written| {
                let qualified = qualify(written);
                TableKey::new(qualified.schema, qualified.name)
            });
            ignore.push(entry);
        }
    }

    Ok(Expectations {
        files: places.ids.clone(),
        default_schema,
        default_schema_spans: schema.map(|(_, spans)| spans),
        heads,
        tables,
        sequences_spans: sequences.as_ref().map(|(_, spans)| spans.clone()),
        sequences: sequences
            .map(|(sequences, _)| sequences)
            .unwrap_or_default(),
        lint: LintConfig { severity, ignore },
    })
}
