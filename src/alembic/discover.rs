//! Finding the migrations: which directories hold the revision files, read the way Alembic reads
//! them, and the list of revision files in them.
//!
//! The order is SPEC.md's: `--migrations` (a script directory or a versions directory), else
//! `alembic.ini` in the working directory, else `pyproject.toml` `[tool.alembic]`, else
//! Flask-Migrate's `migrations/`. As in Alembic, each setting is looked up in `alembic.ini`'s
//! `[alembic]` section first and in `[tool.alembic]` second, so a project that keeps only its
//! logging configuration in `alembic.ini` still finds its `script_location` in `pyproject.toml`.
//!
//! Invariant: this module reads configuration and lists directories; it never opens a revision
//! file. Every failure names the path or the setting at fault and what was tried.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use walkdir::WalkDir;

use super::Error;
use super::ini::{Ini, IniError};

/// Which tool the project drives Alembic through; it decides how fix commands are spelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Flavor {
    #[default]
    Alembic,
    FlaskMigrate,
}

impl Flavor {
    /// `alembic <args>` or `flask db <args>`: a command as the project runs it.
    pub fn command(self, args: &str) -> String {
        match self {
            Flavor::Alembic => format!("alembic {args}"),
            Flavor::FlaskMigrate => format!("flask db {args}"),
        }
    }
}

/// Where a project's revision files live and how it drives Alembic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// The directories holding revision files, in configuration order; each exists.
    pub version_dirs: Vec<PathBuf>,
    /// The Alembic script directory (holding `env.py`), where one is known.
    pub script_dir: Option<PathBuf>,
    pub flavor: Flavor,
    /// How the directories were found, for messages: `alembic.ini script_location`.
    pub found_by: String,
    /// Whether the version directories are searched below their top level. Alembic does so only
    /// with `recursive_version_locations = true`; with `--migrations` and for Flask-Migrate
    /// projects driftlint always does.
    pub recursive: bool,
    /// Configured version locations that do not exist. Alembic skips them silently; a report
    /// may mention them.
    pub missing_version_dirs: Vec<PathBuf>,
}

/// The section of `alembic.ini` Alembic reads unless `-n` names another.
const INI_SECTION: &str = "alembic";

/// Finds the migrations of the project in `cwd`, or in `migrations` when given (relative to
/// `cwd`).
pub fn discover(cwd: &Path, migrations: Option<&Path>) -> Result<Project, Error> {
    let cwd = absolute(cwd);
    if let Some(dir) = migrations {
        return from_migrations_argument(&cwd.join(dir), dir);
    }

    let ini = read_alembic_ini(&cwd.join("alembic.ini"))?;
    // A broken pyproject.toml only matters when alembic.ini leaves something to it.
    let pyproject = match read_pyproject(&cwd.join("pyproject.toml")) {
        Ok(pyproject) => pyproject,
        Err(_) if ini.as_ref().is_some_and(IniSettings::is_complete) => None,
        Err(error) => return Err(error),
    };

    let script_location = ini
        .as_ref()
        .and_then(|ini| ini.script_location.clone())
        .or_else(|| pyproject.as_ref().and_then(|p| p.script_location.clone()));

    if let Some(script_location) = script_location {
        let version_locations = ini
            .as_ref()
            .and_then(|ini| ini.version_locations.clone())
            .or_else(|| pyproject.as_ref().and_then(|p| p.version_locations.clone()));
        let recursive = ini
            .as_ref()
            .and_then(|ini| ini.recursive)
            .or_else(|| pyproject.as_ref().and_then(|p| p.recursive))
            .unwrap_or(false);
        let mut search_roots = vec![cwd.clone(), cwd.join("src")];
        // Alembic puts `prepend_sys_path` on `sys.path` before it resolves a package resource.
        let prepend_sys_path = ini
            .as_ref()
            .map(|ini| &ini.prepend_sys_path)
            .filter(|paths| !paths.is_empty())
            .or(pyproject.as_ref().map(|p| &p.prepend_sys_path));
        if let Some(paths) = prepend_sys_path {
            search_roots.extend(paths.iter().map(|p| normalize(&cwd.join(p))));
        }
        let found_by = script_location.origin.clone();
        return from_configuration(
            &cwd,
            script_location,
            version_locations,
            recursive,
            &search_roots,
            found_by,
        );
    }

    let flask_dir = cwd.join("migrations");
    if flask_dir.is_dir() {
        let mut project = from_script_directory(&flask_dir, "Flask-Migrate migrations/ directory")?;
        project.flavor = Flavor::FlaskMigrate;
        return Ok(project);
    }

    let tried = vec![
        match &ini {
            None => "alembic.ini: not found".to_owned(),
            Some(ini) if ini.has_section => {
                "alembic.ini: its [alembic] section has no script_location".to_owned()
            }
            Some(_) => "alembic.ini: it has no [alembic] section".to_owned(),
        },
        match &pyproject {
            None => "pyproject.toml: not found".to_owned(),
            Some(p) if p.has_section => {
                "pyproject.toml: [tool.alembic] has no script_location".to_owned()
            }
            Some(_) => "pyproject.toml: it has no [tool.alembic] table".to_owned(),
        },
        format!(
            "Flask-Migrate: no migrations/ directory in {}",
            cwd.display()
        ),
    ];
    Err(Error::NotFound { cwd, tried })
}

/// The revision files of `project`: every `.py` file in its version directories (below them
/// too when `project.recursive`), sorted by path, each listed once. Skips `__pycache__`, hidden
/// files and directories, editor backups and lock files, and `__init__.py`.
///
/// A symbolic link (a revision file, or a version directory itself) whose target lies outside
/// the project is not listed: a revision "file" linked to `/proc/self/environ` would otherwise be
/// read and shown. [`links_outside_project`] names them, for a warning.
pub fn revision_files(project: &Project) -> Result<Vec<PathBuf>, Error> {
    walk(project).map(|(files, _)| files)
}

/// [`revision_files`] and the links it skipped as pointing outside the project, in one walk.
pub(crate) fn revision_files_and_outside_links(
    project: &Project,
) -> Result<(Vec<PathBuf>, Vec<OutsideLink>), Error> {
    walk(project)
}

/// A symbolic link among the revision files, or a version directory that is one, whose target
/// lies outside the project (the working directory, the script directory and its parent, the
/// version directory the link is in). Its target is not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutsideLink {
    /// The link, as found.
    pub link: PathBuf,
    /// Where it points (resolved).
    pub target: PathBuf,
}

/// The links [`revision_files`] leaves out because they point outside the project.
pub fn links_outside_project(project: &Project) -> Vec<OutsideLink> {
    walk(project)
        .map(|(_, outside)| outside)
        .unwrap_or_default()
}

/// The directories a link may point into: the working directory, the script directory and the
/// directory holding it (where `alembic.ini` usually is), resolved.
fn project_roots(project: &Project) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(fs::canonicalize(cwd));
    }
    if let Some(script_dir) = &project.script_dir {
        if let Some(parent) = script_dir.parent() {
            roots.extend(fs::canonicalize(parent));
        }
        roots.extend(fs::canonicalize(script_dir));
    }
    roots
}

fn walk(project: &Project) -> Result<(Vec<PathBuf>, Vec<OutsideLink>), Error> {
    let mut files = Vec::new();
    let mut outside = Vec::new();
    let roots = project_roots(project);
    let inside = |target: &Path, extra: Option<&Path>| {
        roots
            .iter()
            .map(PathBuf::as_path)
            .chain(extra)
            .any(|root| target.starts_with(root))
    };
    for dir in &project.version_dirs {
        let resolved_dir = fs::canonicalize(dir).ok();
        // A version directory that is itself a link out of the project (its files would be
        // read from there).
        if fs::symlink_metadata(dir).is_ok_and(|meta| meta.file_type().is_symlink())
            && let Some(target) = &resolved_dir
            && !inside(target, None)
        {
            outside.push(OutsideLink {
                link: dir.clone(),
                target: target.clone(),
            });
            continue;
        }
        let max_depth = if project.recursive { usize::MAX } else { 1 };
        // Links are not followed while walking, which spares a `stat` per file; a linked file
        // is still read (below), as Alembic's `os.walk` lists it, and a linked directory is not
        // entered, as `os.walk` does not enter it.
        let walker = WalkDir::new(dir)
            .max_depth(max_depth)
            .into_iter()
            .filter_entry(|entry| {
                entry.depth() == 0 || !is_skipped_name(&entry.file_name().to_string_lossy())
            });
        for entry in walker {
            let entry = entry.map_err(|error| {
                let path = error.path().unwrap_or(dir).to_path_buf();
                Error::Unreadable {
                    path,
                    source: error
                        .into_io_error()
                        .unwrap_or_else(|| io::Error::other("a symbolic link loops")),
                }
            })?;
            let file_type = entry.file_type();
            let is_file = file_type.is_file() || (file_type.is_symlink() && entry.path().is_file());
            if !is_file || !is_revision_file_name(&entry.file_name().to_string_lossy()) {
                continue;
            }
            if file_type.is_symlink()
                && let Ok(target) = fs::canonicalize(entry.path())
                && !inside(&target, resolved_dir.as_deref())
            {
                outside.push(OutsideLink {
                    link: entry.into_path(),
                    target,
                });
                continue;
            }
            files.push(entry.into_path());
        }
    }
    outside.sort_by(|a, b| a.link.cmp(&b.link));
    // One sort of the whole list (rather than per directory while walking) is the cheap part
    // of listing thousands of files.
    files.sort_unstable_by(|a, b| compare_paths(a, b));
    // Alembic loads a file reachable through two version locations once.
    files.dedup();
    Ok((files, outside))
}

/// The order of `Path`'s `Ord` (component by component, so a directory's files stay together)
/// computed on the bytes, with the separator sorting before every other byte. The paths share
/// long prefixes, so the first difference is found with a plain byte comparison.
fn compare_paths(a: &Path, b: &Path) -> std::cmp::Ordering {
    let key = |byte: u8| {
        if std::path::is_separator(char::from(byte)) {
            0
        } else {
            u16::from(byte) + 1
        }
    };
    let a = a.as_os_str().as_encoded_bytes();
    let b = b.as_os_str().as_encoded_bytes();
    let common = common_prefix_length(a, b);
    match (a.get(common), b.get(common)) {
        (Some(&x), Some(&y)) => key(x).cmp(&key(y)),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

/// How many leading bytes `a` and `b` share, compared eight at a time: sorting thousands of paths
/// in one directory is mostly walking their common prefix.
fn common_prefix_length(a: &[u8], b: &[u8]) -> usize {
    let mut common = 0;
    let word = |chunk: &[u8]| u64::from_ne_bytes(chunk.try_into().expect("chunks of eight"));
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        if word(x) != word(y) {
            break;
        }
        common += 8;
    }
    common
        + a[common..]
            .iter()
            .zip(&b[common..])
            .take_while(|(x, y)| x == y)
            .count()
}

/// Names never walked into or read: hidden entries, Python's byte-code cache, editor files.
pub(crate) fn is_skipped_name(name: &str) -> bool {
    name.starts_with('.') || name == "__pycache__" || name.ends_with('~') || name.ends_with(".swp")
}

/// Alembic reads `*.py` except `__init__*` (and `.#*`, which hidden names already cover);
/// `env.py` is the script directory's, never a revision.
pub(crate) fn is_revision_file_name(name: &str) -> bool {
    name.ends_with(".py")
        && !name.starts_with("__init__")
        && name != "env.py"
        && !is_skipped_name(name)
}

/// `--migrations`: `path` resolved against the working directory, `given` as the user wrote it.
fn from_migrations_argument(path: &Path, given: &Path) -> Result<Project, Error> {
    let origin = "--migrations";
    let dir = normalize(path);
    match fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(Error::NotADirectory {
                path: dir,
                origin: origin.to_owned(),
            });
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(Error::MissingPath {
                path: dir,
                origin: origin.to_owned(),
            });
        }
        Err(source) => return Err(Error::Unreadable { path: dir, source }),
    }
    if dir.join("versions").is_dir() || dir.join("env.py").is_file() {
        return from_script_directory(&dir, "--migrations (a script directory)");
    }
    if let Some(suggestion) = project_directory_suggestion(given, &dir) {
        return Err(Error::ProjectDirectory {
            path: given.to_path_buf(),
            suggestion,
        });
    }
    // A versions directory given directly: its parent is the script directory when it holds
    // env.py, which tells the flavor.
    let script_dir = dir
        .parent()
        .filter(|parent| parent.join("env.py").is_file())
        .map(Path::to_path_buf);
    let flavor = script_dir.as_deref().map_or(Flavor::Alembic, flavor_of);
    Ok(Project {
        version_dirs: vec![dir],
        script_dir,
        flavor,
        found_by: "--migrations (a versions directory)".to_owned(),
        recursive: true,
        missing_version_dirs: Vec::new(),
    })
}

/// When `dir` is a project's directory rather than a script or versions directory (it has
/// `alembic.ini`, or a script directory with `env.py` and `versions/` one or two levels below),
/// what the user most likely meant.
fn project_directory_suggestion(given: &Path, dir: &Path) -> Option<String> {
    if dir.join("alembic.ini").is_file() {
        return Some(format!(
            "running driftlint in {} (it reads alembic.ini there), or `--migrations` with the \
             directory its script_location names",
            given.display()
        ));
    }
    let is_script_dir =
        |path: &Path| path.join("env.py").is_file() && path.join("versions").is_dir();
    let mut found: Vec<PathBuf> = Vec::new();
    let mut level: Vec<PathBuf> = vec![PathBuf::new()];
    for _depth in 0..2 {
        let mut next = Vec::new();
        for relative in &level {
            let Ok(entries) = fs::read_dir(dir.join(relative)) else {
                continue;
            };
            let mut names: Vec<_> = entries
                .filter_map(|entry| entry.ok())
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| !is_skipped_name(name) && name != "node_modules")
                .collect();
            names.sort();
            for name in names {
                let child = relative.join(&name);
                if is_script_dir(&dir.join(&child)) {
                    found.push(child);
                } else {
                    next.push(child);
                }
            }
        }
        if !found.is_empty() {
            break;
        }
        level = next;
    }
    let suggestions: Vec<String> = found
        .iter()
        .map(|child| format!("`--migrations {}`", given.join(child).display()))
        .collect();
    match suggestions.len() {
        0 => None,
        _ => Some(suggestions.join(" or ")),
    }
}

/// A script directory found without configuration (`--migrations` or Flask-Migrate's
/// `migrations/`): its `versions/`, walked recursively.
fn from_script_directory(dir: &Path, found_by: &str) -> Result<Project, Error> {
    let versions = dir.join("versions");
    if !versions.is_dir() {
        if dir.join("env.py").is_file() {
            return Err(Error::NoVersionsDirectory {
                path: dir.to_path_buf(),
            });
        }
        return Err(Error::MissingPath {
            path: versions,
            origin: found_by.to_owned(),
        });
    }
    Ok(Project {
        version_dirs: vec![versions],
        script_dir: Some(dir.to_path_buf()),
        flavor: flavor_of(dir),
        found_by: found_by.to_owned(),
        recursive: true,
        missing_version_dirs: Vec::new(),
    })
}

fn from_configuration(
    cwd: &Path,
    script_location: Setting<String>,
    version_locations: Option<Setting<Vec<String>>>,
    recursive: bool,
    search_roots: &[PathBuf],
    found_by: String,
) -> Result<Project, Error> {
    let script_dir = resolve_location(
        cwd,
        &script_location.value,
        &script_location.origin,
        search_roots,
    )?;
    match fs::metadata(&script_dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(Error::NotADirectory {
                path: script_dir,
                origin: script_location.origin,
            });
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(Error::MissingPath {
                path: script_dir,
                origin: script_location.origin,
            });
        }
        Err(source) => {
            return Err(Error::Unreadable {
                path: script_dir,
                source,
            });
        }
    }

    let (candidates, origin) = match version_locations {
        Some(locations) => {
            let mut dirs = Vec::with_capacity(locations.value.len());
            for location in &locations.value {
                dirs.push(resolve_location(
                    cwd,
                    location,
                    &locations.origin,
                    search_roots,
                )?);
            }
            (dirs, locations.origin)
        }
        None => (
            vec![script_dir.join("versions")],
            format!("{} (its versions/ directory)", script_location.origin),
        ),
    };
    let (version_dirs, missing_version_dirs): (Vec<PathBuf>, Vec<PathBuf>) =
        candidates.into_iter().partition(|dir| dir.is_dir());
    if version_dirs.is_empty() {
        return Err(Error::NoVersionLocation {
            paths: missing_version_dirs,
            origin,
        });
    }
    Ok(Project {
        version_dirs,
        flavor: flavor_of(&script_dir),
        script_dir: Some(script_dir),
        found_by,
        recursive,
        missing_version_dirs,
    })
}

/// A location as Alembic's `coerce_resource_to_filename` reads it: a relative path containing
/// `:` is a package resource (`myapp:migrations`), anything else a path relative to the working
/// directory. A package is looked for as a directory under `search_roots`, since driftlint
/// never imports Python.
fn resolve_location(
    cwd: &Path,
    location: &str,
    origin: &str,
    search_roots: &[PathBuf],
) -> Result<PathBuf, Error> {
    let as_path = Path::new(location);
    if as_path.is_absolute() || !location.contains(':') {
        return Ok(normalize(&cwd.join(as_path)));
    }
    let mut tokens = location.split(':');
    let package = tokens.next().unwrap_or_default();
    let mut relative: PathBuf = package.split('.').collect();
    relative.extend(tokens.filter(|t| !t.is_empty()));
    let package_dir: PathBuf = package.split('.').collect();
    for root in search_roots {
        if !package.is_empty() && root.join(&package_dir).is_dir() {
            return Ok(normalize(&root.join(&relative)));
        }
    }
    Err(Error::PackageLocation {
        location: location.to_owned(),
        origin: origin.to_owned(),
        searched: search_roots.to_vec(),
    })
}

/// Flask-Migrate's `env.py` reaches the application through Flask's `current_app`.
fn flavor_of(script_dir: &Path) -> Flavor {
    match fs::read(script_dir.join("env.py")) {
        Ok(bytes) if contains(&bytes, b"flask") || contains(&bytes, b"current_app") => {
            Flavor::FlaskMigrate
        }
        _ => Flavor::Alembic,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A configured value and the setting it came from, for messages:
/// `script_location in alembic.ini`.
#[derive(Clone, Debug)]
struct Setting<T> {
    value: T,
    origin: String,
}

/// What `alembic.ini` says about where the migrations are.
#[derive(Debug)]
struct IniSettings {
    has_section: bool,
    script_location: Option<Setting<String>>,
    version_locations: Option<Setting<Vec<String>>>,
    recursive: Option<bool>,
    prepend_sys_path: Vec<String>,
}

impl IniSettings {
    /// Whether `pyproject.toml` has nothing left to add.
    fn is_complete(&self) -> bool {
        self.script_location.is_some()
            && self.version_locations.is_some()
            && self.recursive.is_some()
    }
}

fn read_alembic_ini(path: &Path) -> Result<Option<IniSettings>, Error> {
    let Some(text) = read_config_text(path)? else {
        return Ok(None);
    };
    let here = path
        .parent()
        .map(|dir| dir.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let config_error = |error: IniError| Error::Config {
        path: path.to_path_buf(),
        line: error.line,
        message: error.message,
    };
    let ini = Ini::parse(&text, &here).map_err(config_error)?;
    let get = |key: &str| ini.get(INI_SECTION, key).map_err(config_error);
    let origin = |key: &str| match ini.line_of(INI_SECTION, key) {
        Some(line) => format!("{key} in alembic.ini (line {line})"),
        None => format!("{key} in alembic.ini"),
    };

    let script_location = get("script_location")?
        .filter(|v| !v.is_empty())
        .map(|value| Setting {
            value,
            origin: origin("script_location"),
        });

    // As Alembic does, a separator is read only where there is something to split, and
    // `version_path_separator` counts only for `version_locations`: a value Alembic never
    // looks at (an inline comment after it, say) is no error.
    let version_locations = match get("version_locations")?.filter(|v| !v.is_empty()) {
        Some(value) => {
            let separator = path_separator(&ini, &["path_separator", "version_path_separator"])
                .map_err(config_error)?;
            Some(Setting {
                value: split_locations(&value, separator),
                origin: origin("version_locations"),
            })
        }
        None => None,
    };
    let prepend_separator = match get("prepend_sys_path")? {
        Some(value) if !value.is_empty() => {
            path_separator(&ini, &["path_separator"]).map_err(config_error)?
        }
        _ => None,
    };
    let prepend_sys_path = get("prepend_sys_path")?
        .map(|value| match prepend_separator {
            Some(sep) => split_on(&value, sep),
            // Alembic's legacy splitting of prepend_sys_path also splits on colons.
            None => value
                .split([',', ':', ' ', '\n', '\t'])
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        })
        .unwrap_or_default();
    // Alembic's boolean options are true only when spelled exactly `true`.
    let recursive = get("recursive_version_locations")?.map(|v| v == "true");

    Ok(Some(IniSettings {
        has_section: ini.has_section(INI_SECTION),
        script_location,
        version_locations,
        recursive,
        prepend_sys_path,
    }))
}

/// The separator the first of `keys` that is set names (`path_separator`, and for
/// `version_locations` the older `version_path_separator`), `None` when none is set (legacy
/// splitting on spaces and commas).
fn path_separator(ini: &Ini, keys: &[&str]) -> Result<Option<char>, IniError> {
    for &key in keys {
        let Some(value) = ini.get(INI_SECTION, key)? else {
            continue;
        };
        let separator = match value.as_str() {
            "space" => ' ',
            "newline" => '\n',
            "os" => {
                if cfg!(windows) {
                    ';'
                } else {
                    ':'
                }
            }
            ":" => ':',
            ";" => ';',
            other => {
                return Err(IniError {
                    line: ini.line_of(INI_SECTION, key),
                    message: format!(
                        "`{other}` is not a valid value for {key}; expected space, newline, os, : or ;"
                    ),
                });
            }
        };
        return Ok(Some(separator));
    }
    Ok(None)
}

fn split_locations(value: &str, separator: Option<char>) -> Vec<String> {
    match separator {
        Some(sep) => split_on(value, sep),
        // Alembic's legacy splitting is on commas and runs of spaces. Its regular expression
        // leaves line breaks inside entries, which no real path has, so they split too.
        None => value
            .split([',', ' ', '\n', '\t'])
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

fn split_on(value: &str, separator: char) -> Vec<String> {
    value
        .split(separator)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What `pyproject.toml` `[tool.alembic]` says about where the migrations are.
#[derive(Debug)]
struct PyprojectSettings {
    has_section: bool,
    script_location: Option<Setting<String>>,
    version_locations: Option<Setting<Vec<String>>>,
    recursive: Option<bool>,
    prepend_sys_path: Vec<String>,
}

fn read_pyproject(path: &Path) -> Result<Option<PyprojectSettings>, Error> {
    let Some(text) = read_config_text(path)? else {
        return Ok(None);
    };
    let config_error = |line: Option<usize>, message: String| Error::Config {
        path: path.to_path_buf(),
        line,
        message,
    };
    let document: toml::Table = toml::from_str(&text).map_err(|error| {
        let line = error
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        config_error(line, error.message().to_owned())
    })?;
    let Some(section) = document.get("tool").and_then(|tool| tool.get("alembic")) else {
        return Ok(Some(PyprojectSettings {
            has_section: false,
            script_location: None,
            version_locations: None,
            recursive: None,
            prepend_sys_path: Vec::new(),
        }));
    };
    let Some(section) = section.as_table() else {
        return Err(config_error(
            None,
            "[tool.alembic] must be a table".to_owned(),
        ));
    };
    let here = path
        .parent()
        .map(|dir| dir.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let interpolate = |key: &str, value: &str| {
        interpolate_here(value, &here).ok_or_else(|| {
            config_error(
                None,
                format!("[tool.alembic] {key}: only %(here)s and %% may follow a `%` in `{value}`"),
            )
        })
    };

    let script_location = match section.get("script_location") {
        None => None,
        Some(toml::Value::String(value)) => Some(Setting {
            value: interpolate("script_location", value)?,
            origin: "script_location in pyproject.toml [tool.alembic]".to_owned(),
        }),
        Some(_) => {
            return Err(config_error(
                None,
                "[tool.alembic] script_location must be a string".to_owned(),
            ));
        }
    };
    let version_locations = match section.get("version_locations") {
        None => None,
        Some(toml::Value::Array(items)) => {
            let mut paths = Vec::with_capacity(items.len());
            for item in items {
                let Some(item) = item.as_str() else {
                    return Err(config_error(
                        None,
                        "[tool.alembic] version_locations must be a list of strings".to_owned(),
                    ));
                };
                paths.push(interpolate("version_locations", item)?);
            }
            Some(Setting {
                value: paths,
                origin: "version_locations in pyproject.toml [tool.alembic]".to_owned(),
            })
        }
        Some(_) => {
            return Err(config_error(
                None,
                "[tool.alembic] version_locations must be a list of strings".to_owned(),
            ));
        }
    };
    let recursive = match section.get("recursive_version_locations") {
        None => None,
        Some(toml::Value::Boolean(value)) => Some(*value),
        Some(_) => {
            return Err(config_error(
                None,
                "[tool.alembic] recursive_version_locations must be true or false".to_owned(),
            ));
        }
    };
    // Only a hint for finding packages: a malformed value is left for Alembic to refuse.
    let prepend_sys_path = section
        .get("prepend_sys_path")
        .and_then(toml::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(toml::Value::as_str)
                .filter_map(|item| interpolate_here(item, &here))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(PyprojectSettings {
        has_section: true,
        script_location,
        version_locations,
        recursive,
        prepend_sys_path,
    }))
}

/// Python's `value % {"here": here}`, which is what Alembic applies to `[tool.alembic]`
/// strings. `None` when the value holds any other `%` directive.
fn interpolate_here(value: &str, here: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len() + here.len());
    let mut rest = value;
    while let Some(percent) = rest.find('%') {
        out.push_str(&rest[..percent]);
        let after = &rest[percent + 1..];
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("(here)s") {
            out.push_str(here);
            rest = tail;
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The text of a configuration file, `None` when it does not exist.
fn read_config_text(path: &Path) -> Result<Option<String>, Error> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|error| Error::Config {
                path: path.to_path_buf(),
                line: None,
                message: format!(
                    "not valid UTF-8 (at byte {})",
                    error.utf8_error().valid_up_to()
                ),
            }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Unreadable {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn absolute(path: &Path) -> PathBuf {
    normalize(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// Drops `.` components and doubled separators so that paths read well in messages. `..` is
/// kept: resolving it without the file system would be wrong across symbolic links.
fn normalize(path: &Path) -> PathBuf {
    path.components()
        .filter(|component| !matches!(component, Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(case: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/discover")
            .join(case)
    }

    fn relative_dirs(project: &Project, root: &Path) -> Vec<String> {
        project
            .version_dirs
            .iter()
            .map(|dir| {
                dir.strip_prefix(root)
                    .expect("version dir lies inside the fixture")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    fn discover_case(case: &str) -> (Project, PathBuf) {
        let root = fixture(case);
        let project = discover(&root, None)
            .unwrap_or_else(|error| panic!("discovery fails for {case}: {error}"));
        (project, root)
    }

    #[test]
    fn ini_with_here_and_default_versions() {
        let (project, root) = discover_case("ini_here");
        assert_eq!(relative_dirs(&project, &root), ["db/migrations/versions"]);
        assert_eq!(project.script_dir, Some(root.join("db/migrations")));
        assert_eq!(project.flavor, Flavor::Alembic);
        assert!(
            project
                .found_by
                .starts_with("script_location in alembic.ini"),
            "{}",
            project.found_by
        );
        assert!(!project.recursive);
    }

    #[test]
    fn ini_with_a_relative_script_location() {
        let (project, root) = discover_case("ini_relative");
        assert_eq!(relative_dirs(&project, &root), ["alembic/versions"]);
    }

    #[test]
    fn ini_version_locations_with_os_separator_and_recursion() {
        let (project, root) = discover_case("ini_version_locations_os");
        assert_eq!(
            relative_dirs(&project, &root),
            ["migrations/versions", "plugins/billing/versions"]
        );
        assert!(project.recursive);
        assert_eq!(
            project.missing_version_dirs,
            [root.join("plugins/absent/versions")]
        );
    }

    #[test]
    fn ini_version_locations_split_on_newlines() {
        let (project, root) = discover_case("ini_version_locations_newline");
        assert_eq!(
            relative_dirs(&project, &root),
            ["core/versions", "extra dir/versions"]
        );
    }

    #[test]
    fn ini_version_locations_split_the_legacy_way() {
        let (project, root) = discover_case("ini_version_locations_legacy");
        assert_eq!(
            relative_dirs(&project, &root),
            ["one/versions", "two/versions", "three/versions"]
        );
    }

    #[test]
    fn ini_version_locations_with_the_old_separator_key() {
        let (project, root) = discover_case("ini_version_path_separator_semicolon");
        assert_eq!(relative_dirs(&project, &root), ["a/versions", "b/versions"]);
    }

    #[test]
    fn ini_package_resource_found_through_prepend_sys_path() {
        let (project, root) = discover_case("ini_package");
        assert_eq!(
            relative_dirs(&project, &root),
            ["backend/myapp/db/migrations/versions"]
        );
    }

    #[test]
    fn ini_package_resource_that_cannot_be_found() {
        let error = discover(&fixture("ini_package_missing"), None).unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, Error::PackageLocation { .. }), "{text}");
        assert!(text.contains("`notinstalled:migrations`"), "{text}");
        assert!(text.contains("script_location in alembic.ini"), "{text}");
    }

    #[test]
    fn pyproject_when_the_ini_has_only_logging() {
        let (project, root) = discover_case("pyproject");
        assert_eq!(
            relative_dirs(&project, &root),
            ["migrations/versions", "migrations/extra"]
        );
        assert!(project.recursive);
        assert_eq!(
            project.found_by,
            "script_location in pyproject.toml [tool.alembic]"
        );
    }

    #[test]
    fn flask_migrate_directory() {
        let (project, root) = discover_case("flask");
        assert_eq!(relative_dirs(&project, &root), ["migrations/versions"]);
        assert_eq!(project.flavor, Flavor::FlaskMigrate);
        assert!(project.recursive);
    }

    #[test]
    fn flask_env_py_is_recognised_behind_alembic_ini() {
        let (project, _) = discover_case("ini_flask_env");
        assert_eq!(project.flavor, Flavor::FlaskMigrate);
    }

    #[test]
    fn nothing_found_names_everything_tried() {
        let error = discover(&fixture("empty"), None).unwrap_err();
        let help = miette::Diagnostic::help(&error).map(|h| h.to_string());
        assert!(help.is_some_and(|h| h.contains("--migrations")));
        let text = error.to_string();
        assert!(matches!(error, Error::NotFound { .. }), "{text}");
        for tried in [
            "alembic.ini: not found",
            "pyproject.toml: it has no [tool.alembic] table",
            "Flask-Migrate: no migrations/ directory",
        ] {
            assert!(text.contains(tried), "`{tried}` missing from: {text}");
        }
    }

    #[test]
    fn missing_script_location_names_the_path_and_the_setting() {
        let error = discover(&fixture("ini_missing_script_dir"), None).unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, Error::MissingPath { .. }), "{text}");
        assert!(text.contains("does_not_exist"), "{text}");
        assert!(
            text.contains("script_location in alembic.ini (line 2)"),
            "{text}"
        );
    }

    #[test]
    fn bad_separator_is_a_config_error_with_its_line() {
        let error = discover(&fixture("ini_bad_separator"), None).unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(error, Error::Config { line: Some(3), .. }),
            "{text}"
        );
        assert!(
            text.contains("`comma` is not a valid value for path_separator"),
            "{text}"
        );
    }

    #[test]
    fn migrations_argument_takes_a_script_dir_or_a_versions_dir() {
        let root = fixture("flask");
        let project = discover(&root, Some(Path::new("migrations"))).expect("script dir");
        assert_eq!(relative_dirs(&project, &root), ["migrations/versions"]);
        assert_eq!(project.flavor, Flavor::FlaskMigrate);

        let project =
            discover(&root, Some(Path::new("migrations/versions"))).expect("versions dir");
        assert_eq!(relative_dirs(&project, &root), ["migrations/versions"]);
        assert_eq!(project.script_dir, Some(root.join("migrations")));
        assert_eq!(project.flavor, Flavor::FlaskMigrate);

        let error = discover(&root, Some(Path::new("nope"))).unwrap_err();
        assert!(matches!(error, Error::MissingPath { .. }));
        assert!(error.to_string().contains("--migrations names"), "{error}");
        assert!(error.to_string().contains("nope"), "{error}");

        let error = discover(&root, Some(Path::new("migrations/env.py"))).unwrap_err();
        assert!(matches!(error, Error::NotADirectory { .. }), "{error}");
    }

    #[test]
    fn walking_skips_what_alembic_skips_and_sorts() {
        // Built at test time: git ignores `__pycache__` and editors' files.
        let root = tempfile::tempdir().expect("temporary directory");
        let versions = root.path().join("versions");
        for file in [
            "0002_second.py",
            "0001_first.py",
            "__init__.py",
            "__pycache__/0001_first.py",
            "__pycache__/0001_first.cpython-311.pyc",
            ".#0002_second.py",
            "0002_second.py~",
            ".0002_second.py.swp",
            ".hidden.py",
            ".hidden_dir/0005_hidden.py",
            "notes.txt",
            "README",
            "release_2/expand/0003_add.py",
            "release_2/expand/__init__.py",
            "release_2/contract/0004_drop.py",
        ] {
            let path = versions.join(file);
            fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
            fs::write(&path, "revision = 'x'\n").expect("write");
        }
        let project = discover(root.path(), Some(Path::new("versions"))).expect("versions dir");
        assert!(project.recursive);
        let files: Vec<String> = revision_files(&project)
            .expect("walk")
            .iter()
            .map(|p| {
                p.strip_prefix(&versions)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            files,
            [
                "0001_first.py",
                "0002_second.py",
                "release_2/contract/0004_drop.py",
                "release_2/expand/0003_add.py",
            ]
        );

        let mut flat = project.clone();
        flat.recursive = false;
        assert_eq!(revision_files(&flat).expect("walk").len(), 2);

        // The same directory listed twice yields each file once.
        let mut twice = project.clone();
        twice.version_dirs.push(versions.clone());
        assert_eq!(revision_files(&twice).expect("walk").len(), 4);
    }

    #[test]
    fn path_order_is_component_order() {
        let mut paths: Vec<PathBuf> = [
            "v/ab.py",
            "v/ab/c.py",
            "v/a-b/c.py",
            "v/abc.py",
            "v/a/z.py",
            "v/a.py",
            "v/B.py",
            "v/a/b/c.py",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let mut expected = paths.clone();
        expected.sort();
        paths.sort_by(|a, b| compare_paths(a, b));
        assert_eq!(paths, expected);
    }

    #[test]
    fn common_prefix_length_counts_across_word_boundaries() {
        let long = b"migrations/versions/0001_create_users.py";
        for cut in 0..long.len() {
            let mut other = long.to_vec();
            other[cut] = b'#';
            assert_eq!(common_prefix_length(long, &other), cut);
            assert_eq!(common_prefix_length(&long[..cut], long), cut);
        }
        assert_eq!(common_prefix_length(long, long), long.len());
    }

    #[test]
    fn interpolate_here_is_python_percent_formatting() {
        assert_eq!(
            interpolate_here("%(here)s/db", "/p").as_deref(),
            Some("/p/db")
        );
        assert_eq!(interpolate_here("100%%", "/p").as_deref(), Some("100%"));
        assert_eq!(interpolate_here("%(other)s", "/p"), None);
    }
}
