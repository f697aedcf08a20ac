//! The SQL fixes of the live findings about one table or column: statements to run against the
//! database that bring the object to what the migrations make it, built from the replayed
//! schema's real names, types, defaults and keys.
//!
//! Invariant: every statement can run twice without harm. Creation says `IF NOT EXISTS`, removal
//! `IF EXISTS`; what PostgreSQL cannot guard itself (replacing a primary key, `SET NOT NULL`
//! while NULLs may remain) runs under a psql `\if` on a catalog query, with an `\echo` saying what
//! was left undone. A statement that can lose data follows a [`DESTRUCTIVE_MARK`] comment and
//! makes the fix `Destructive`; the script leaves it commented out unless told otherwise.

use super::{
    Fix, Safety, comment, comment_line, destructive_mark, psql_echo, psql_guard, quote_ident,
    quote_literal, quote_qualified,
};
use crate::schema::model::{Column, PrimaryKey, Schema, Table};
use crate::schema::render::{
    SequenceSpelling, column_definition_spelled, create_table_spelled, ident_list, index_entry,
};
use crate::schema::types::PgType;

/// The boolean "no row of the table holds NULL in the column".
fn no_nulls_sql(qualified_table: &str, column: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM {qualified_table} WHERE {} IS NULL)",
        quote_ident(column)
    )
}

/// `SET NOT NULL` under a guard: run only once no NULL is left, otherwise say so.
fn set_not_null_guarded(schema: &str, table: &str, column: &str) -> Vec<String> {
    let qualified = quote_qualified(schema, table);
    let mut sql = psql_guard(&no_nulls_sql(&qualified, column));
    sql.push(format!(
        "ALTER TABLE {qualified} ALTER COLUMN {} SET NOT NULL;",
        quote_ident(column)
    ));
    sql.push("\\else".to_owned());
    sql.push(psql_echo(&format!(
        "driftlint: {schema}.{table}.{column} still holds NULLs; fill them, then run: ALTER TABLE \
         {qualified} ALTER COLUMN {} SET NOT NULL;",
        quote_ident(column)
    )));
    sql.push("\\endif".to_owned());
    sql
}

/// `missing-column`, live: the column as the migrations define it (`schema_model` is the
/// replayed schema holding it). A `NOT NULL` column that fills itself (a default, serial,
/// identity) is added as it is; one that does not is added nullable, and made `NOT NULL` by the
/// script only where the table has no row holding NULL (an empty table), with a comment saying
/// what to backfill otherwise.
pub fn add_column_fix(
    schema_model: &Schema,
    schema: &str,
    table: &str,
    column: &Column,
    revision: Option<&str>,
) -> Fix {
    let qualified = quote_qualified(schema, table);
    let fills_itself = column.default.is_some() || column.identity.is_some();
    let mut as_added = column.clone();
    let backfill = !column.nullable && !fills_itself;
    if backfill {
        as_added.nullable = true;
    }
    let mut sql = Vec::new();
    if let Some(revision) = revision {
        sql.push(comment_line(&format!("as revision {revision} declares it")));
    }
    sql.push(format!(
        "ALTER TABLE {qualified} ADD COLUMN IF NOT EXISTS {};",
        column_definition_spelled(schema_model, &as_added, SequenceSpelling::Implicit)
    ));
    if backfill {
        sql.push(comment_line(&format!(
            "{schema}.{table}.{} is NOT NULL without a default: on a table with rows, backfill it \
             (UPDATE {qualified} SET {} = … WHERE {} IS NULL;), then: ALTER TABLE {qualified} \
             ALTER COLUMN {} SET NOT NULL;",
            column.name,
            quote_ident(&column.name),
            quote_ident(&column.name),
            quote_ident(&column.name)
        )));
        sql.extend(set_not_null_guarded(schema, table, &column.name));
    }
    sql.extend(constraints_on_column(
        schema_model,
        schema,
        table,
        &column.name,
    ));
    Fix {
        title: format!("add column {schema}.{table}.{}", column.name),
        sql,
        safety: Safety::Safe,
    }
}

/// What went with the column when it was dropped and comes back with it: the unique constraints,
/// foreign keys and indexes of the migrations' table that use it. Constraints are dropped
/// (`IF EXISTS`) before being added, so the pair can run twice.
fn constraints_on_column(
    schema_model: &Schema,
    schema: &str,
    table: &str,
    column: &str,
) -> Vec<String> {
    let Some(model) = schema_model.table(schema, table) else {
        return Vec::new();
    };
    let qualified = quote_qualified(schema, table);
    let uses = |columns: &[String]| columns.iter().any(|c| c == column);
    let mut sql = Vec::new();
    let mut replace = |name: &str, definition: String| {
        sql.push(format!(
            "ALTER TABLE {qualified} DROP CONSTRAINT IF EXISTS {};",
            quote_ident(name)
        ));
        sql.push(format!(
            "ALTER TABLE {qualified} ADD CONSTRAINT {} {definition};",
            quote_ident(name)
        ));
    };
    for unique in model.uniques.iter().filter(|u| uses(&u.columns)) {
        replace(
            &unique.name,
            format!("UNIQUE ({})", ident_list(&unique.columns)),
        );
    }
    for fk in model.foreign_keys.iter().filter(|fk| uses(&fk.columns)) {
        let references = if fk.ref_columns.is_empty() {
            String::new()
        } else {
            format!(" ({})", ident_list(&fk.ref_columns))
        };
        replace(
            &fk.name,
            format!(
                "FOREIGN KEY ({}) REFERENCES {}{references}",
                ident_list(&fk.columns),
                quote_qualified(&fk.ref_schema, &fk.ref_table)
            ),
        );
    }
    let columns = model.columns.iter().map(|c| c.name.as_str()).collect();
    for index in &model.indexes {
        let mentions = index.columns.iter().any(|entry| {
            entry == column
                || crate::schema::sql::referenced_identifiers(entry)
                    .iter()
                    .any(|name| name == column)
        });
        if !mentions {
            continue;
        }
        let entries: Vec<String> = index
            .columns
            .iter()
            .map(|entry| index_entry(entry, &columns))
            .collect();
        sql.push(format!(
            "CREATE {}INDEX IF NOT EXISTS {} ON {qualified} ({});",
            if index.unique { "UNIQUE " } else { "" },
            quote_ident(&index.name),
            entries.join(", ")
        ));
    }
    sql
}

/// `missing-table`, live: the table as the migrations leave it at the head (columns with
/// `SERIAL`/identity, defaults and nullability, primary key, unique and check constraints), its
/// indexes and its foreign keys.
pub fn create_table_fix(schema_model: &Schema, table: &Table, revision: Option<&str>) -> Fix {
    let qualified = quote_qualified(&table.schema, &table.name);
    let mut sql = Vec::new();
    if let Some(revision) = revision {
        sql.push(comment_line(&format!(
            "as the migrations make it (created by revision {revision})"
        )));
    }
    sql.push(
        create_table_spelled(schema_model, table, SequenceSpelling::Implicit, true)
            .trim_end()
            .to_owned(),
    );
    let columns = table.columns.iter().map(|c| c.name.as_str()).collect();
    for index in &table.indexes {
        let entries: Vec<String> = index
            .columns
            .iter()
            .map(|entry| index_entry(entry, &columns))
            .collect();
        sql.push(format!(
            "CREATE {}INDEX IF NOT EXISTS {} ON {qualified} ({});",
            if index.unique { "UNIQUE " } else { "" },
            quote_ident(&index.name),
            entries.join(", ")
        ));
    }
    for fk in &table.foreign_keys {
        let references = if fk.ref_columns.is_empty() {
            String::new()
        } else {
            format!(" ({})", ident_list(&fk.ref_columns))
        };
        // PostgreSQL has no `ADD CONSTRAINT IF NOT EXISTS`: dropping it first makes the pair
        // safe to run twice.
        sql.push(format!(
            "ALTER TABLE {qualified} DROP CONSTRAINT IF EXISTS {};",
            quote_ident(&fk.name)
        ));
        sql.push(format!(
            "ALTER TABLE {qualified} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}{references};",
            quote_ident(&fk.name),
            ident_list(&fk.columns),
            quote_qualified(&fk.ref_schema, &fk.ref_table),
        ));
    }
    Fix {
        title: format!("create table {}.{}", table.schema, table.name),
        sql,
        safety: Safety::Safe,
    }
}

/// The boolean "the table's primary key is not exactly these columns, in this order".
fn primary_key_differs_sql(schema: &str, table: &str, columns: &[String]) -> String {
    let names: Vec<String> = columns.iter().map(|c| quote_literal(c)).collect();
    format!(
        "(SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_catalog.pg_constraint c \
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
         WHERE c.conrelid = to_regclass({}) AND c.contype = 'p') \
         IS DISTINCT FROM ARRAY[{}]::text[]",
        quote_literal(&quote_qualified(schema, table)),
        names.join(", ")
    )
}

/// `primary-key-mismatch`: drop the present primary key and add the expected one, under a guard
/// so that a second run leaves the new key alone. `drop_columns` are columns the migrations no
/// longer have once the key moved (`system_config` keyed on `id`, then on `key`, with `id`
/// dropped): dropping them loses their data, so they follow a [`DESTRUCTIVE_MARK`] and make the
/// fix destructive.
pub fn replace_primary_key_fix(
    schema: &str,
    table: &str,
    present: Option<&PrimaryKey>,
    expected: &PrimaryKey,
    drop_columns: &[String],
) -> Fix {
    let qualified = quote_qualified(schema, table);
    let mut sql = psql_guard(&primary_key_differs_sql(schema, table, &expected.columns));
    if let Some(present) = present {
        sql.push(format!(
            "ALTER TABLE {qualified} DROP CONSTRAINT IF EXISTS {};",
            quote_ident(&present.name)
        ));
    }
    sql.push(format!(
        "ALTER TABLE {qualified} ADD CONSTRAINT {} PRIMARY KEY ({});",
        quote_ident(&expected.name),
        ident_list(&expected.columns)
    ));
    sql.push("\\endif".to_owned());
    for column in drop_columns {
        sql.push(destructive_mark(&format!(
            "drops column {schema}.{table}.{column} and its data, which the migrations drop once \
             the key moved"
        )));
        sql.push(format!(
            "ALTER TABLE {qualified} DROP COLUMN IF EXISTS {};",
            quote_ident(column)
        ));
    }
    Fix {
        title: format!(
            "make ({}) the primary key of {schema}.{table}",
            expected.columns.join(", ")
        ),
        sql,
        safety: if drop_columns.is_empty() {
            Safety::Safe
        } else {
            Safety::Destructive
        },
    }
}

/// A table the migrations rename that still has its old name: `ALTER TABLE IF EXISTS … RENAME`,
/// which does nothing once the rename is done.
pub fn rename_table_fix(schema: &str, from: &str, to: &str) -> Fix {
    Fix {
        title: format!("rename table {schema}.{from} to {to}"),
        sql: vec![format!(
            "ALTER TABLE IF EXISTS {} RENAME TO {};",
            quote_qualified(schema, from),
            quote_ident(to)
        )],
        safety: Safety::Safe,
    }
}

/// A column the migrations rename that still has its old name, renamed under a guard on the old
/// name still being there.
pub fn rename_column_fix(schema: &str, table: &str, from: &str, to: &str) -> Fix {
    let mut sql = psql_guard(&crate::fix::upgrade_sql::column_exists_sql(
        schema, table, from,
    ));
    sql.push(format!(
        "ALTER TABLE {} RENAME COLUMN {} TO {};",
        quote_qualified(schema, table),
        quote_ident(from),
        quote_ident(to)
    ));
    sql.push("\\endif".to_owned());
    Fix {
        title: format!("rename column {schema}.{table}.{from} to {to}"),
        sql,
        safety: Safety::Safe,
    }
}

/// Whether converting `from` to `to` keeps every value as it is: the same type with at least as
/// much room, a wider integer, or character data to `text`.
pub fn widens(from: &PgType, to: &PgType) -> bool {
    if from.array_dims != to.array_dims {
        return false;
    }
    if from.name == to.name {
        return to.modifiers.is_empty()
            || (from.modifiers.len() == to.modifiers.len()
                && from.modifiers.first() <= to.modifiers.first()
                && from.modifiers.get(1) == to.modifiers.get(1)
                && !from.modifiers.is_empty());
    }
    let rank = |name: &str| match name {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        _ => None,
    };
    if let (Some(a), Some(b)) = (rank(&from.name), rank(&to.name)) {
        return a < b;
    }
    to.name == "text" && matches!(from.name.as_str(), "character varying" | "character")
}

/// Whether PostgreSQL converts `from` to `to` in `ALTER COLUMN … TYPE` without a `USING`
/// clause (an assignment cast exists): within the integer and numeric, text, date and time,
/// interval and JSON families, and from anything to a text type (PostgreSQL's I/O conversion).
pub fn converts_without_using(from: &PgType, to: &PgType) -> bool {
    if (from.array_dims > 0) != (to.array_dims > 0) {
        return false;
    }
    let family = |ty: &PgType| match ty.name.as_str() {
        "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" => Some(1),
        "text" | "character varying" | "character" => Some(2),
        "date" | "timestamp without time zone" | "timestamp with time zone" => Some(3),
        "time without time zone" | "time with time zone" => Some(4),
        name if name.starts_with("interval") => Some(5),
        "json" | "jsonb" => Some(6),
        _ => None,
    };
    from.name == to.name
        || family(from).is_some_and(|f| family(to) == Some(f))
        || (to.array_dims == 0 && family(to) == Some(2))
}

/// `column-type-mismatch`: `ALTER COLUMN … TYPE`, with `USING` where PostgreSQL has no
/// assignment cast, and a comment saying what can fail or be lost. A conversion that keeps every
/// value is safe; any other is destructive (values can be rounded, cut or refused).
pub fn alter_type_fix(
    schema: &str,
    table: &str,
    column: &str,
    present: &PgType,
    expected: &PgType,
) -> Fix {
    let qualified = quote_qualified(schema, table);
    let column_sql = quote_ident(column);
    let using = if converts_without_using(present, expected) {
        String::new()
    } else {
        format!(" USING {column_sql}::{expected}")
    };
    let statement =
        format!("ALTER TABLE {qualified} ALTER COLUMN {column_sql} TYPE {expected}{using};");
    let mut sql = Vec::new();
    let safe = widens(present, expected);
    if !safe {
        sql.push(destructive_mark(&format!(
            "converting {present} to {expected} fails on a value that does not convert, and can \
             round or cut values that do; look first: SELECT {column_sql} FROM {qualified} WHERE \
             {column_sql} IS NOT NULL LIMIT 20;"
        )));
    }
    sql.push(statement);
    Fix {
        title: format!("change the type of {schema}.{table}.{column} from {present} to {expected}"),
        sql,
        safety: if safe {
            Safety::Safe
        } else {
            Safety::Destructive
        },
    }
}

/// `nullability-mismatch`: `DROP NOT NULL`, or `SET NOT NULL` only once no NULL is left (with
/// the count query in a comment, and an `\echo` when the script had to leave it).
pub fn alter_nullability_fix(schema: &str, table: &str, column: &str, nullable: bool) -> Fix {
    let qualified = quote_qualified(schema, table);
    let sql = if nullable {
        vec![format!(
            "ALTER TABLE {qualified} ALTER COLUMN {} DROP NOT NULL;",
            quote_ident(column)
        )]
    } else {
        let mut sql = vec![comment_line(&format!(
            "SET NOT NULL fails while NULLs remain; count them: SELECT count(*) FROM {qualified} WHERE {} IS NULL;",
            quote_ident(column)
        ))];
        sql.extend(set_not_null_guarded(schema, table, column));
        sql
    };
    Fix {
        title: format!(
            "make {schema}.{table}.{column} {}",
            if nullable { "nullable" } else { "NOT NULL" }
        ),
        sql,
        safety: Safety::Safe,
    }
}

/// A column the database must not have (`absent_columns`), dropped with its data: destructive.
pub fn drop_column_fix(schema: &str, table: &str, column: &str) -> Fix {
    Fix {
        title: format!("drop column {schema}.{table}.{column}"),
        sql: vec![
            destructive_mark(&format!(
                "drops column {schema}.{table}.{column} and its data"
            )),
            format!(
                "ALTER TABLE {} DROP COLUMN IF EXISTS {};",
                quote_qualified(schema, table),
                quote_ident(column)
            ),
        ],
        safety: Safety::Destructive,
    }
}

/// `untracked-column`: the migration snippet that adopts the column (as comments, to put in a
/// new revision) and the `DROP` for when nothing needs it, destructive.
pub fn untracked_column_fix(schema: &str, table: &str, column: &str, adoption: &[String]) -> Fix {
    let mut sql = vec![comment_line(&format!(
        "to keep {schema}.{table}.{column}, adopt it in a new migration:"
    ))];
    sql.extend(
        adoption
            .iter()
            .flat_map(|line| comment(&format!("  {line}"))),
    );
    sql.push(destructive_mark(&format!(
        "drops column {schema}.{table}.{column} and its data"
    )));
    sql.push(format!(
        "ALTER TABLE {} DROP COLUMN IF EXISTS {};",
        quote_qualified(schema, table),
        quote_ident(column)
    ));
    Fix {
        title: format!("adopt {schema}.{table}.{column} in a migration, or drop it"),
        sql,
        safety: Safety::Destructive,
    }
}

/// `untracked-table`: the adopting migration snippet (comments) and the destructive `DROP TABLE`.
pub fn untracked_table_fix(schema: &str, table: &str, adoption: &[String]) -> Fix {
    let mut sql = vec![comment_line(&format!(
        "to keep {schema}.{table}, adopt it in a new migration:"
    ))];
    sql.extend(
        adoption
            .iter()
            .flat_map(|line| comment(&format!("  {line}"))),
    );
    sql.push(destructive_mark(&format!(
        "drops table {schema}.{table} and its rows"
    )));
    sql.push(format!(
        "DROP TABLE IF EXISTS {};",
        quote_qualified(schema, table)
    ));
    Fix {
        title: format!("adopt {schema}.{table} in a migration, or drop it"),
        sql,
        safety: Safety::Destructive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::DESTRUCTIVE_MARK;
    use crate::schema::model::IdentityKind;
    use crate::schema::model::TableKey;

    fn column(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty: PgType::parse(ty).expect("test type parses"),
            nullable,
            default: None,
            identity: None,
            sequence: None,
            created_by: None,
            type_set_by: None,
            nullable_set_by: None,
            default_set_by: None,
        }
    }

    #[test]
    fn a_nullable_column_is_added_as_declared() {
        let fix = add_column_fix(
            &Schema::default(),
            "public",
            "users",
            &column("locked_until", "timestamp", true),
            Some("0002"),
        );
        assert_eq!(
            fix.sql,
            [
                "-- as revision 0002 declares it",
                "ALTER TABLE public.users ADD COLUMN IF NOT EXISTS locked_until timestamp without time zone;"
            ]
        );
    }

    #[test]
    fn a_not_null_column_without_default_is_added_nullable_then_guarded() {
        let fix = add_column_fix(
            &Schema::default(),
            "public",
            "users",
            &column("tier", "integer", false),
            None,
        );
        assert_eq!(
            fix.sql[0],
            "ALTER TABLE public.users ADD COLUMN IF NOT EXISTS tier integer;"
        );
        assert!(fix.sql[1].starts_with("-- public.users.tier is NOT NULL without a default"));
        assert_eq!(
            fix.sql[2],
            "SELECT COALESCE((NOT EXISTS (SELECT 1 FROM public.users WHERE tier IS NULL)), false) AS driftlint_guard \\gset"
        );
        assert_eq!(fix.sql[3], "\\if :driftlint_guard");
        assert_eq!(
            fix.sql[4],
            "ALTER TABLE public.users ALTER COLUMN tier SET NOT NULL;"
        );
        assert_eq!(fix.sql.last().map(String::as_str), Some("\\endif"));
    }

    #[test]
    fn a_column_comes_back_with_its_constraints_and_indexes() {
        let mut schema_model = Schema::default();
        let mut users = Table::new("public", "users");
        users.columns = vec![
            column("id", "integer", false),
            column("email", "text", true),
        ];
        users.uniques.push(crate::schema::model::UniqueConstraint {
            name: "users_email_key".into(),
            columns: vec!["email".into()],
            created_by: None,
        });
        users.indexes.push(crate::schema::model::Index::new(
            "ix_users_lower_email",
            vec!["lower(email)".into()],
            false,
        ));
        users.indexes.push(crate::schema::model::Index::new(
            "ix_users_id",
            vec!["id".into()],
            false,
        ));
        schema_model
            .tables
            .insert(TableKey::new("public", "users"), users);
        let fix = add_column_fix(
            &schema_model,
            "public",
            "users",
            &column("email", "text", true),
            None,
        );
        assert_eq!(
            fix.sql,
            [
                "ALTER TABLE public.users ADD COLUMN IF NOT EXISTS email text;",
                "ALTER TABLE public.users DROP CONSTRAINT IF EXISTS users_email_key;",
                "ALTER TABLE public.users ADD CONSTRAINT users_email_key UNIQUE (email);",
                "CREATE INDEX IF NOT EXISTS ix_users_lower_email ON public.users ((lower(email)));",
            ]
        );
    }

    #[test]
    fn a_column_with_a_default_or_identity_keeps_not_null() {
        let mut guest = column("is_guest", "boolean", false);
        guest.default = Some("false".into());
        assert_eq!(
            add_column_fix(&Schema::default(), "public", "users", &guest, None).sql,
            [
                "ALTER TABLE public.users ADD COLUMN IF NOT EXISTS is_guest boolean DEFAULT false NOT NULL;"
            ]
        );
        let mut number = column("number", "bigint", false);
        number.identity = Some(IdentityKind::Always);
        assert_eq!(
            add_column_fix(&Schema::default(), "public", "events", &number, None).sql,
            [
                "ALTER TABLE public.events ADD COLUMN IF NOT EXISTS number bigint GENERATED ALWAYS AS IDENTITY;"
            ]
        );
    }

    #[test]
    fn replacing_a_key_that_drops_a_column_is_destructive() {
        let present = PrimaryKey {
            name: "system_config_pkey".into(),
            columns: vec!["id".into()],
            set_by: None,
        };
        let expected = PrimaryKey {
            name: "system_config_pkey".into(),
            columns: vec!["key".into()],
            set_by: None,
        };
        let fix = replace_primary_key_fix(
            "public",
            "system_config",
            Some(&present),
            &expected,
            &["id".into()],
        );
        assert_eq!(fix.safety, Safety::Destructive);
        let statements: Vec<&String> = fix
            .sql
            .iter()
            .filter(|s| !s.starts_with("--") && !s.starts_with('\\') && !s.contains("\\gset"))
            .collect();
        assert_eq!(
            statements,
            [
                "ALTER TABLE public.system_config DROP CONSTRAINT IF EXISTS system_config_pkey;",
                "ALTER TABLE public.system_config ADD CONSTRAINT system_config_pkey PRIMARY KEY (key);",
                "ALTER TABLE public.system_config DROP COLUMN IF EXISTS id;",
            ]
        );
        let marker = fix
            .sql
            .iter()
            .position(|s| s.starts_with(DESTRUCTIVE_MARK))
            .expect("the drop is marked");
        assert_eq!(
            fix.sql[marker + 1],
            "ALTER TABLE public.system_config DROP COLUMN IF EXISTS id;"
        );
        let without_drop =
            replace_primary_key_fix("public", "system_config", Some(&present), &expected, &[]);
        assert_eq!(without_drop.safety, Safety::Safe);
    }

    #[test]
    fn type_changes_say_what_can_fail() {
        let ty = |t: &str| PgType::parse(t).expect("type");
        let widening = alter_type_fix("public", "users", "email", &ty("varchar(80)"), &ty("text"));
        assert_eq!(widening.safety, Safety::Safe);
        assert_eq!(
            widening.sql,
            ["ALTER TABLE public.users ALTER COLUMN email TYPE text;"]
        );
        let narrowing = alter_type_fix("public", "t", "n", &ty("text"), &ty("integer"));
        assert_eq!(narrowing.safety, Safety::Destructive);
        assert!(narrowing.sql[0].starts_with(DESTRUCTIVE_MARK));
        assert_eq!(
            narrowing.sql[1],
            "ALTER TABLE public.t ALTER COLUMN n TYPE integer USING n::integer;"
        );
    }

    #[test]
    fn set_not_null_gives_the_count_query() {
        let fix = alter_nullability_fix("public", "users", "email", false);
        assert_eq!(
            fix.sql[0],
            "-- SET NOT NULL fails while NULLs remain; count them: SELECT count(*) FROM public.users WHERE email IS NULL;"
        );
        assert!(
            fix.sql
                .iter()
                .any(|s| s.starts_with("\\echo 'driftlint: public.users.email still holds NULLs"))
        );
        assert_eq!(
            alter_nullability_fix("public", "users", "email", true).sql,
            ["ALTER TABLE public.users ALTER COLUMN email DROP NOT NULL;"]
        );
    }

    #[test]
    fn untracked_objects_get_an_adoption_snippet_and_a_destructive_drop() {
        let fix = untracked_column_fix(
            "public",
            "users",
            "nickname",
            &[
                "op.add_column(\"users\", sa.Column(\"nickname\", sa.Text(), nullable=True))"
                    .into(),
            ],
        );
        assert_eq!(fix.safety, Safety::Destructive);
        assert_eq!(
            fix.sql,
            [
                "-- to keep public.users.nickname, adopt it in a new migration:",
                "--   op.add_column(\"users\", sa.Column(\"nickname\", sa.Text(), nullable=True))",
                "-- DESTRUCTIVE: drops column public.users.nickname and its data",
                "ALTER TABLE public.users DROP COLUMN IF EXISTS nickname;",
            ]
        );
        let table = untracked_table_fix("public", "scratch", &[]);
        assert_eq!(
            table.sql.last().map(String::as_str),
            Some("DROP TABLE IF EXISTS public.scratch;")
        );
    }
}
