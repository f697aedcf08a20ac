#!/usr/bin/env python3
"""Real-world corpus: driftlint's replay measured against real Alembic on open-source projects.

For every project in pins.tsv (pinned commit of a public repository), this script
  1. extracts the pinned commit's migrations and the app source the revision files import
     from a bare mirror into $CORPUS/src/<name>/ (git archive | tar -x);
  2. builds a throwaway virtualenv $CORPUS/venvs/<name> (alembic, SQLAlchemy, psycopg2-binary
     from a shared base venv, plus the project's light import-time dependencies from PyPI);
  3. runs real `alembic upgrade heads` on an empty PostgreSQL database through a minimal env.py
     of our own (target_metadata=None; $CORPUS/env/<name>/), with stubs from
     bench/corpus/stubs/<name>/ first on PYTHONPATH;
  4. runs `driftlint schema --format sql` from the project's root (where a user runs alembic),
     loads it into a second database, and compares both catalogs column by column with the
     queries of tests/support/describe.rs;
  5. runs `driftlint init --database-url` on the real database and
     `driftlint check --format json` with that expectations file, and counts findings per rule.

Usage:
  python3 bench/corpus/run.py                      # every project
  python3 bench/corpus/run.py mealie polar         # some
Environment:
  CORPUS=/work/corpus          where sources, venvs, env dirs, logs and the cluster live
  MIRRORS=/work/.mirror        bare mirrors: $MIRRORS/<owner>+<repo>/repo
  DRIFTLINT=target/release/driftlint
  PGBIN=/usr/lib/postgresql/15/bin
Nothing is written to the repository. Per-project details land in $CORPUS/out/<name>/.
"""

import collections
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CORPUS = Path(os.environ.get("CORPUS", "/work/corpus"))
MIRRORS = Path(os.environ.get("MIRRORS", "/work/.mirror"))
DRIFTLINT = Path(os.environ.get("DRIFTLINT", REPO / "target/release/driftlint")).resolve()
PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))
BASE_PKGS = ["alembic==1.18.5", "SQLAlchemy==2.0.58", "psycopg2-binary==2.9.13"]

ENV_PY = '''\
# Minimal env.py for the corpus: no target metadata, the throwaway database, one transaction
# per revision. Not the project's own env.py.
import json
import os
from alembic import context
from sqlalchemy import MetaData, create_engine, pool

# A project whose models declare a naming convention gets it (Alembic names the constraints
# and indexes of op.create_table etc. with the target metadata's convention).
naming = os.environ.get("CORPUS_NAMING_CONVENTION")
target_metadata = MetaData(naming_convention=json.load(open(naming))) if naming else None

try:  # a project's own setup, our code: bench/corpus/stubs/<name>/corpus_env.py
    import corpus_env  # noqa: F401
except ModuleNotFoundError as error:
    if error.name != "corpus_env":
        raise

# Some revision files read the URL back from the configuration.
context.config.set_main_option("sqlalchemy.url", os.environ["CORPUS_DB_URL"])
engine = create_engine(os.environ["CORPUS_DB_URL"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata,
                      transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
'''


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def read_pins():
    rows = []
    lines = (HERE / "pins.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        cells += [""] * (len(header) - len(cells))
        row = dict(zip(header, cells))
        rows.append({k: (v if v != "-" else "") for k, v in row.items()})
    return rows


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# ---------------------------------------------------------------------------------- cluster
class Cluster:
    def __init__(self):
        self.dir = CORPUS / "pg"
        self.port = None

    def as_pg(self, cmd):
        if os.getuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + cmd
        return cmd

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        portfile = self.dir / "port"
        if portfile.exists():
            port = portfile.read_text().strip()
            if run([PGBIN / "pg_isready", "-h", "127.0.0.1", "-p", port]).returncode == 0:
                self.port = port
                self.started = False
                return
        if not data.exists():
            r = run(self.as_pg([str(PGBIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]))
            assert r.returncode == 0, r.stderr
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = str(s.getsockname()[1])
        s.close()
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        r = run(self.as_pg([str(PGBIN / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"), "-o", opts, "-w", "start"]))
        assert r.returncode == 0, r.stderr + r.stdout
        portfile.write_text(self.port)
        self.started = True

    def stop(self):
        if self.started:
            run(self.as_pg([str(PGBIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "stop"]))
            (self.dir / "port").unlink(missing_ok=True)

    def url(self, db):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def psql(self, db, sql, stop_on_error=True):
        cmd = [str(PGBIN / "psql"), "-X", "-q", "-At", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "-d", db]
        if stop_on_error:
            cmd += ["-v", "ON_ERROR_STOP=1"]
        return run(cmd, input=sql)

    def fresh(self, db):
        self.psql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE); CREATE DATABASE "{db}";')


# ---------------------------------------------------------------------------------- steps
def extract(p):
    dest = CORPUS / "src" / p["name"]
    if dest.exists():
        return dest
    owner, repo = p["repository"].split("/")
    git_dir = MIRRORS / f"{owner}+{repo}" / "repo"
    if not git_dir.exists():
        raise RuntimeError(f"no mirror at {git_dir} (fetch github:{p['repository']})")
    tmp = dest.parent / (dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    paths = p["extract"].split(",")
    archive = subprocess.Popen(["git", "--git-dir", str(git_dir), "archive", p["commit"], *paths], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(tmp)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise RuntimeError(f"git archive failed for {p['name']}")
    tmp.rename(dest)
    return dest


def naming_convention(p, out):
    """flag `naming=<path>`: the project's MetaData(naming_convention=...) read from that file of
    the pinned commit (a dict literal, or a module-level name bound to one), written as JSON into
    the output folder for the corpus env.py. Nothing of the project is kept in this repository."""
    paths = [f.split("=", 1)[1] for f in p["flags"].split(",") if f.startswith("naming=")]
    if not paths:
        return None
    import ast
    owner, repo = p["repository"].split("/")
    git_dir = MIRRORS / f"{owner}+{repo}" / "repo"
    text = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{p['commit']}:{paths[0]}"],
                          capture_output=True, text=True, check=True).stdout
    try:
        tree = ast.parse(text)
    except SyntaxError:
        # Newer syntax than this Python reads: find the dict by text instead.
        import re
        m = re.search(r"naming_convention\s*=\s*(\{|\w+)", text)
        start = m.start(1) if m.group(1) == "{" else re.search(rf"^{m.group(1)}\s*=\s*\{{", text, re.M).end() - 1
        depth = 0
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        target = out / "naming_convention.json"
        target.write_text(json.dumps(ast.literal_eval(text[start:end + 1])))
        return target
    bound = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bound[node.targets[0].id] = node.value
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "naming_convention":
                    value = bound.get(kw.value.id) if isinstance(kw.value, ast.Name) else kw.value
                    convention = ast.literal_eval(value)
                    target = out / "naming_convention.json"
                    target.write_text(json.dumps(convention))
                    return target
    raise RuntimeError(f"{p['name']}: no MetaData(naming_convention=...) in {paths[0]}")


def base_venv():
    base = CORPUS / "venvs" / "_base"
    py = base / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(base)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *BASE_PKGS], check=True)
    return base


def interpreter(p):
    """flags `python=3.13`: a project whose source needs a newer Python than this one."""
    for flag in p["flags"].split(","):
        if flag.startswith("python="):
            version = flag.split("=", 1)[1]
            # pyenv's own builds first: its shims fail when the version is not selected.
            candidates = sorted(str(x) for x in Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}"))
            found = shutil.which(f"python{version}")
            candidates += [found] if found else []
            if not candidates:
                raise RuntimeError(f"needs Python {version}, which is not installed")
            return candidates[0]
    return None


def venv(p):
    v = CORPUS / "venvs" / p["name"]
    py = v / "bin" / "python"
    marker = v / ".corpus-pip"
    other = interpreter(p)
    want = p["pip"] if not other else ",".join([*BASE_PKGS, *filter(None, p["pip"].split(","))])
    if py.exists() and marker.exists() and marker.read_text() == want:
        return v
    shutil.rmtree(v, ignore_errors=True)
    if other:
        subprocess.run([other, "-m", "venv", str(v)], check=True)
        r = run([str(py), "-m", "pip", "install", "-q", *want.split(",")])
        if r.returncode != 0:
            raise RuntimeError(f"pip install {want} failed:\n{r.stderr[-2000:]}")
        marker.write_text(want)
        return v
    base = base_venv()
    subprocess.run([sys.executable, "-m", "venv", str(v)], check=True)
    site = run([str(py), "-c", "import site; print(site.getsitepackages()[0])"]).stdout.strip()
    base_site = run([str(base / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"]).stdout.strip()
    # The base venv's packages come after the project's own (a .pth entry is appended).
    Path(site, "corpus_base.pth").write_text(base_site + "\n")
    if want:
        r = run([str(py), "-m", "pip", "install", "-q", *want.split(",")])
        if r.returncode != 0:
            raise RuntimeError(f"pip install {want} failed:\n{r.stderr[-2000:]}")
    marker.write_text(want)
    return v


def versions_dir(root, migrations):
    """`migrations` names a script directory (with versions/) or the versions directory itself."""
    path = (root / migrations).resolve()
    return path / "versions" if (path / "versions").is_dir() else path


def env_dir(p, src):
    d = CORPUS / "env" / p["name"]
    d.mkdir(parents=True, exist_ok=True)
    versions = versions_dir(src / p["root"], p["migrations"])
    recursive = "true" if "recursive" in p["flags"].split(",") else "false"
    (d / "env.py").write_text(ENV_PY)
    (d / "alembic.ini").write_text(
        "[alembic]\n"
        f"script_location = {d}\n"
        f"version_locations = {versions}\n"
        "path_separator = os\n"
        f"recursive_version_locations = {recursive}\n"
    )
    return d


def describe_sql():
    text = (REPO / "tests/support/describe.rs").read_text()
    return text.split('r#"', 1)[1].split('"#', 1)[0]


def describe(cluster, db):
    r = cluster.psql(db, describe_sql())
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return [line for line in r.stdout.splitlines() if line]


COLUMN = re.compile(r"^column (\S+)\.(\S+) (.*)$")


def columns(lines):
    out = {}
    for line in lines:
        if line.startswith("column "):
            rest = line[len("column "):]
            # "schema.table.column <type ...>": split qualified name from description.
            qname, desc = rest.split(" ", 1)
            out[qname] = desc
    return out


def kinds(lines):
    c = collections.Counter()
    for line in lines:
        if line.startswith("table "):
            c["tables"] += 1
        elif line.startswith("constraint "):
            if " PRIMARY KEY " in line:
                c["pk"] += 1
            elif " UNIQUE " in line:
                c["unique"] += 1
            elif " FOREIGN KEY " in line:
                c["fk"] += 1
            elif " CHECK " in line:
                c["check"] += 1
        elif line.startswith("index "):
            c["index"] += 1
        elif line.startswith("enum "):
            c["enum"] += 1
        elif line.startswith("sequence "):
            c["sequence"] += 1
    return c


def strip_names(lines, kind):
    """Constraints and indexes without their names, to count matches whatever the naming."""
    out = collections.Counter()
    for line in lines:
        if line.startswith("constraint ") and kind == "constraint":
            parts = line.split(" ", 3)
            out[parts[1] + " " + parts[3]] += 1
        elif line.startswith("index ") and kind == "index":
            m = re.match(r"index (\S+) CREATE (UNIQUE )?INDEX \S+ ON (.*)$", line)
            if m:
                out[f"{m.group(1)} {m.group(2) or ''}{m.group(3)}"] += 1
    return out


def revision_files(versions, recursive):
    files = versions.rglob("*.py") if recursive else versions.glob("*.py")
    return [f for f in files if f.name != "__init__.py" and "__pycache__" not in f.parts]


def compare_schema(cluster, root, mig, real, rc, ours_db, out, suffix):
    res = {}
    t = time.monotonic()
    r = run([str(DRIFTLINT), "schema", *mig, "--format", "sql"], cwd=root)
    res["schema_ms"] = (time.monotonic() - t) * 1000
    (out / f"schema{suffix}.sql").write_text(r.stdout)
    (out / f"schema{suffix}.stderr").write_text(r.stderr)
    res["schema_ok"] = r.returncode == 0
    if r.returncode != 0:
        res["schema_error"] = " ".join(r.stderr.split())[:300]
    r = cluster.psql(ours_db, r.stdout, stop_on_error=False)
    res["load_errors"] = sum(1 for l in r.stderr.splitlines() if "ERROR" in l)
    (out / f"load{suffix}.stderr").write_text(r.stderr)
    ours = describe(cluster, ours_db)
    (out / f"ours{suffix}.txt").write_text("\n".join(ours) + "\n")
    oc = columns(ours)
    res["identical"] = sum(1 for k, d in rc.items() if oc.get(k) == d)
    res["missing"] = sum(1 for k in rc if k not in oc)
    res["extra"] = sum(1 for k in oc if k not in rc)
    res["kinds_real"], res["kinds_ours"] = kinds(real), kinds(ours)
    for kind in ("constraint", "index"):
        a, b = strip_names(real, kind), strip_names(ours, kind)
        res[f"{kind}_matched"] = sum((a & b).values())
    diffs = []
    for k, d in rc.items():
        if oc.get(k) != d:
            diffs.append(f"{k}\n  real: {d}\n  ours: {oc.get(k, '(missing)')}")
    for k in oc:
        if k not in rc:
            diffs.append(f"{k}\n  real: (missing)\n  ours: {oc[k]}")
    (out / f"column-diffs{suffix}.txt").write_text("\n".join(diffs) + "\n")
    return res


def measure(p, cluster):
    name = p["name"]
    out = CORPUS / "out" / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    res = {"name": name}
    src = extract(p)
    root = src / p["root"]
    versions = versions_dir(root, p["migrations"])
    res["revisions"] = len(revision_files(versions, "recursive" in p["flags"].split(",")))

    # Ground truth: real Alembic.
    v = venv(p)
    e = env_dir(p, src)
    real_db, ours_db = f"real_{name}", f"ours_{name}"
    cluster.fresh(real_db)
    cluster.fresh(ours_db)
    stubs = HERE / "stubs" / name
    pypath = [str(stubs)] if stubs.exists() else []
    pypath.append(str(HERE / "stubs" / "_common"))
    pypath += [str((src / x).resolve()) for x in [".", *p["pythonpath"].split(",")] if x]
    env = dict(os.environ, CORPUS_DB_URL=cluster.url(real_db), PYTHONPATH=os.pathsep.join(pypath),
               CORPUS_SRC=str(src.resolve()), CORPUS_FORGIVING_LOG=str(out / "forgiven.txt"),
               CORPUS_STUBS=str(stubs))
    env.pop("DATABASE_URL", None)
    naming = naming_convention(p, out)
    if naming:
        env["CORPUS_NAMING_CONVENTION"] = str(naming)
    t = time.monotonic()
    r = run([str(v / "bin" / "python"), "-m", "alembic", "-c", str(e / "alembic.ini"), "upgrade", "heads"], env=env, cwd=root)
    res["alembic_s"] = time.monotonic() - t
    (out / "alembic.log").write_text(r.stdout + r.stderr)
    res["alembic_ok"] = r.returncode == 0
    if not res["alembic_ok"]:
        last = [l for l in r.stderr.strip().splitlines() if l.strip()]
        res["alembic_error"] = last[-1] if last else "exit %d" % r.returncode
    real = describe(cluster, real_db)
    (out / "real.txt").write_text("\n".join(real) + "\n")

    # driftlint, from the project's root as a user would run it.
    mig = ["--migrations", p["migrations"]] if "migrations-flag" in p["flags"].split(",") else []
    rc = columns(real)
    res.update(compare_schema(cluster, root, mig, real, rc, ours_db, out, ""))
    if not res["schema_ok"] and not mig:
        # Discovery refused the project: measure the replay itself with --migrations too.
        mig2 = ["--migrations", p["migrations"]]
        cluster.fresh(ours_db)
        again = compare_schema(cluster, root, mig2, real, rc, ours_db, out, "-with-migrations-flag")
        res["identical_with_flag"] = again["identical"]
        res["with_flag"] = again
    res["tables"] = kinds(real)["tables"]
    res["columns"] = len(rc)

    # Findings with expectations written from the real database.
    exp = out / "expectations.yaml"
    r = run([str(DRIFTLINT), "init", "--database-url", cluster.url(real_db), "-o", str(exp)], cwd=root)
    (out / "init.stderr").write_text(r.stderr)
    args = ["--expectations", str(exp)] if exp.exists() else []
    # When discovery refused the project, count the findings with --migrations.
    mig_check = mig if res["schema_ok"] or mig else ["--migrations", p["migrations"]]
    r = run([str(DRIFTLINT), "check", *mig_check, *args, "--format", "json"], cwd=root)
    (out / "check.json").write_text(r.stdout)
    (out / "check.stderr").write_text(r.stderr)
    rules = collections.Counter()
    unmodeled_files = collections.Counter()
    try:
        findings = json.loads(r.stdout).get("findings", [])
    except json.JSONDecodeError:
        findings = []
        res["check_error"] = (r.stderr.strip().splitlines() or ["?"])[-1]
    for f in findings:
        rules[f["rule"]] += 1
        if f["rule"] == "unmodeled-operation":
            unmodeled_files[(f.get("location") or {}).get("path", "?")] += 1
    res["rules"] = dict(rules)
    res["unmodeled"] = rules.get("unmodeled-operation", 0)
    res["unmodeled_files"] = len(unmodeled_files)
    (out / "result.json").write_text(json.dumps(res, indent=1, default=dict))
    return res


def main():
    pins = read_pins()
    wanted = set(sys.argv[1:])
    if wanted:
        pins = [p for p in pins if p["name"] in wanted]
    if not DRIFTLINT.exists():
        sys.exit(f"{DRIFTLINT} not found: cargo build --release (or set DRIFTLINT)")
    cluster = Cluster()
    cluster.start()
    results = []
    try:
        for p in pins:
            log(f"== {p['name']}")
            try:
                results.append(measure(p, cluster))
            except Exception as error:  # keep going: one broken project is a row, not a crash
                log(f"   {p['name']}: {error}")
                results.append({"name": p["name"], "error": str(error).splitlines()[0]})
    finally:
        cluster.stop()
    table(results, pins)


def table(results, pins):
    commits = {p["name"]: p["commit"][:10] for p in pins}
    print(f"driftlint {run([str(DRIFTLINT), '--version']).stdout.strip()}, {time.strftime('%Y-%m-%d', time.gmtime())}")
    head = ["project", "commit", "revs", "tables", "columns", "identical", "share", "share w/ --migrations", "missing", "unmodeled", "unm/rev", "unm files", "schema ms", "alembic"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    tot = collections.Counter()
    for r in results:
        if "error" in r:
            print(f"| {r['name']} | {commits[r['name']]} | error: {r['error']} |")
            continue
        ok = "ok" if r["alembic_ok"] else "FAILED: " + r["alembic_error"][:80].replace("|", "/")
        share = r["identical"] / r["columns"] if r["columns"] else 0
        flag = f"{r['identical_with_flag'] / r['columns']:.0%}" if "identical_with_flag" in r and r["columns"] else ""
        print(f"| {r['name']} | {commits[r['name']]} | {r['revisions']} | {r['tables']} | {r['columns']} | {r['identical']} | {share:.0%} | {flag} | {r['missing']} | {r['unmodeled']} | {r['unmodeled'] / max(r['revisions'], 1):.2f} | {r['unmodeled_files']} | {r['schema_ms']:.0f} | {ok} |")
        if r["alembic_ok"]:
            for k in ("revisions", "tables", "columns", "identical", "missing", "unmodeled", "unmodeled_files"):
                tot[k] += r[k]
            tot["schema_ms"] += r["schema_ms"]
            tot["identical_flag"] += r.get("identical_with_flag", r["identical"])
            tot["projects"] += 1
    share = tot["identical"] / tot["columns"] if tot["columns"] else 0
    flagshare = f"{tot['identical_flag'] / tot['columns']:.0%}" if tot["columns"] else ""
    print(f"| total ({tot['projects']} built by Alembic) | | {tot['revisions']} | {tot['tables']} | {tot['columns']} | {tot['identical']} | {share:.0%} | {flagshare} | {tot['missing']} | {tot['unmodeled']} | {tot['unmodeled'] / max(tot['revisions'], 1):.2f} | {tot['unmodeled_files']} | {tot['schema_ms']:.0f} | |")
    print()
    print("keys and indexes (real / driftlint / matched by definition):")
    for r in results:
        if "error" in r or not r["alembic_ok"]:
            continue
        a, b = r["kinds_real"], r["kinds_ours"]
        print(f"  {r['name']}: pk {a['pk']}/{b['pk']}, unique {a['unique']}/{b['unique']}, fk {a['fk']}/{b['fk']}, "
              f"check {a['check']}/{b['check']}, index {a['index']}/{b['index']}, enum {a['enum']}/{b['enum']}; "
              f"constraints matched {r['constraint_matched']}, indexes matched {r['index_matched']}; "
              f"rendered SQL errors {r['load_errors']}")
        if "with_flag" in r:
            w = r["with_flag"]
            b = w["kinds_ours"]
            print(f"  {r['name']} with --migrations: pk {a['pk']}/{b['pk']}, unique {a['unique']}/{b['unique']}, "
                  f"fk {a['fk']}/{b['fk']}, check {a['check']}/{b['check']}, index {a['index']}/{b['index']}, "
                  f"enum {a['enum']}/{b['enum']}; constraints matched {w['constraint_matched']}, "
                  f"indexes matched {w['index_matched']}; rendered SQL errors {w['load_errors']}")
    print()
    print("driftlint schema refused (as run from the project root):")
    for r in results:
        if r.get("schema_error"):
            print(f"  {r['name']}: {r['schema_error']}")
    print()
    print("findings per rule (check --format json, expectations from the real database):")
    for r in results:
        if "error" in r:
            continue
        print(f"  {r['name']}: " + ", ".join(f"{k} {v}" for k, v in sorted(r["rules"].items())))


if __name__ == "__main__":
    main()
