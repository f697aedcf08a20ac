//! A deterministic mutation engine: a seeded generator, byte-level mutations, splices between
//! corpus files and insertion of hostile tokens and deep structures. The same seed and case
//! index give the same input on every machine, so a crash found in a long run is reproduced
//! from its index alone.

/// SplitMix64: small, fast, and good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    /// The generator of one case: the run's seed, the target and the case index mixed.
    pub fn for_case(seed: u64, target: &str, index: u64) -> Rng {
        // FNV-1a of the target name, so targets do not share their streams.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in target.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut rng = Rng(seed ^ hash ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        rng.next();
        rng
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }

    /// A size in `1..=max`, log-uniform: small sizes are common, huge ones happen.
    pub fn log_size(&mut self, max: usize) -> usize {
        let max = max.max(1);
        let bits = usize::BITS - max.leading_zeros();
        let limit = 1usize << self.below(bits as usize + 1).min(bits as usize);
        1 + self.below(limit.min(max))
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The largest input a mutation may grow to (deep structures come close to it).
pub const MAX_INPUT: usize = 256 * 1024;

/// Tokens every kind of input gets: control characters, bytes that are not UTF-8, a BOM,
/// line separators, quotes, escapes and numbers no integer type holds.
pub const GENERIC_TOKENS: &[&[u8]] = &[
    b"\0",
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xef\xbb\xbf",
    b"\r",
    b"\r\n",
    b"\n",
    b"\t",
    b"\x0b",
    b"\x0c",
    b"\x1b[2J",
    b"\x07",
    b"\xe2\x80\xa8",
    b"\xe2\x80\xae",
    b"\\",
    b"\"",
    b"'",
    b"`",
    b"$$",
    b"99999999999999999999999999999999999999",
    b"-9223372036854775809",
    b"9223372036854775808",
    b"18446744073709551616",
    b"4294967296",
    b"1e99999",
    b"-0",
    b"NaN",
    b"0x",
    b"\xc3\xa9",
    b"\xf0\x9d\x94\x98",
    b"\xe6\x97\xa5\xe6\x9c\xac",
    b"%s%n",
    b"{}",
    b"\\x00",
    b"\\u0000",
    b"\\N{",
];

/// Mutates `base` (a corpus file, or any input) 1 to 16 times; `corpus` gives splices and
/// `tokens` the words of the input's language; `deep` builds deeply nested or long structures
/// of that language at a given size.
pub fn mutate(
    rng: &mut Rng,
    base: &[u8],
    corpus: &[Vec<u8>],
    tokens: &[&[u8]],
    deep: fn(&mut Rng, usize) -> Vec<u8>,
) -> Vec<u8> {
    let mut data = base.to_vec();
    let most = *rng.pick(&[1, 2, 4, 8, 16]);
    let rounds = 1 + rng.below(most);
    for _ in 0..rounds {
        mutate_once(rng, &mut data, corpus, tokens, deep);
        if data.len() > MAX_INPUT {
            data.truncate(MAX_INPUT);
        }
    }
    data
}

/// A position to insert at: anywhere, or (as often) at the start of a line, where indentation
/// and statements begin.
fn position(rng: &mut Rng, data: &[u8]) -> usize {
    let at = rng.below(data.len() + 1);
    if rng.chance(1, 2) {
        data[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
    } else {
        at
    }
}

fn span(rng: &mut Rng, data: &[u8]) -> (usize, usize) {
    if data.is_empty() {
        return (0, 0);
    }
    let start = rng.below(data.len());
    let len = rng.log_size(data.len() - start);
    (start, start + len)
}

fn insert(data: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    data.splice(at..at, bytes.iter().copied());
}

fn mutate_once(
    rng: &mut Rng,
    data: &mut Vec<u8>,
    corpus: &[Vec<u8>],
    tokens: &[&[u8]],
    deep: fn(&mut Rng, usize) -> Vec<u8>,
) {
    match rng.below(14) {
        // A flipped bit.
        0 if !data.is_empty() => {
            let at = rng.below(data.len());
            data[at] ^= 1 << rng.below(8);
        }
        // A byte replaced by an interesting one.
        1 if !data.is_empty() => {
            let at = rng.below(data.len());
            data[at] = *rng.pick(&[
                0u8, 0xff, 0x80, 0xc3, b'\n', b'\r', b'\t', b'(', b')', b'[', b']', b'{', b'}',
                b'"', b'\'', b'\\', b':', b'#', b' ', b'-', b',', b'=', b'0', b'9',
            ]);
        }
        // A span deleted.
        2 => {
            let (start, end) = span(rng, data);
            data.drain(start..end);
        }
        // A span duplicated somewhere else.
        3 => {
            let (start, end) = span(rng, data);
            let copy = data[start..end].to_vec();
            let at = position(rng, data);
            insert(data, at, &copy);
        }
        // A span of another corpus file spliced in, or replacing a span of this one.
        4 | 5 if !corpus.is_empty() => {
            let other = rng.pick(corpus);
            let (start, end) = span(rng, other);
            let piece = other[start..end].to_vec();
            if rng.chance(1, 2) {
                let (a, b) = span(rng, data);
                data.splice(a..b, piece);
            } else {
                let at = position(rng, data);
                insert(data, at, &piece);
            }
        }
        // A token of the input's language.
        6 | 7 => {
            let token = if tokens.is_empty() || rng.chance(1, 3) {
                rng.pick(GENERIC_TOKENS)
            } else {
                rng.pick(tokens)
            };
            let at = position(rng, data);
            insert(data, at, token);
        }
        // Deep nesting or a long chain, up to 50,000 levels.
        8 => {
            let depth = rng.log_size(50_000);
            let piece = deep(rng, depth);
            let at = position(rng, data);
            insert(data, at, &piece);
        }
        // Random bytes.
        9 => {
            let len = rng.log_size(32);
            let piece: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let at = rng.below(data.len() + 1);
            insert(data, at, &piece);
        }
        // Indentation, `\r` or a BOM at the start of a line.
        10 => {
            let piece: &[u8] = rng.pick::<&[u8]>(&[
                b"\t".as_slice(),
                b"    ",
                b" ",
                b"\r",
                b"\xef\xbb\xbf",
                b"\x0c",
                b"        ",
            ]);
            let at = position(rng, data);
            insert(data, at, piece);
        }
        // Truncated.
        11 if !data.is_empty() => {
            let at = rng.below(data.len());
            data.truncate(at);
        }
        // A very long line (reports must not print it whole or fail on its columns).
        12 => {
            let len = rng.log_size(100_000);
            let byte = *rng.pick(b"a x(1");
            let at = rng.below(data.len() + 1);
            insert(data, at, &vec![byte; len]);
        }
        // Two spans swapped.
        _ => {
            let (a1, a2) = span(rng, data);
            let first = data[a1..a2].to_vec();
            let (b1, b2) = span(rng, data);
            if b1 >= a2 {
                let second = data[b1..b2].to_vec();
                data.splice(b1..b2, first);
                data.splice(a1..a2, second);
            }
        }
    }
}

/// `n` copies of `unit` between `prefix` and `suffix`.
pub fn repeat(prefix: &[u8], unit: &[u8], n: usize, suffix: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + unit.len() * n + suffix.len());
    out.extend_from_slice(prefix);
    for _ in 0..n {
        out.extend_from_slice(unit);
    }
    out.extend_from_slice(suffix);
    out
}

/// `open` n times, `middle`, `close` n times.
pub fn nest(open: &[u8], middle: &[u8], close: &[u8], n: usize) -> Vec<u8> {
    let mut out = repeat(b"", open, n, middle);
    for _ in 0..n {
        out.extend_from_slice(close);
    }
    out
}

/// Python: parentheses, lists, calls, operator chains, unary operators, subscripts,
/// attributes, nested blocks.
pub fn deep_python(rng: &mut Rng, n: usize) -> Vec<u8> {
    match rng.below(10) {
        0 => nest(b"(", b"1", b")", n),
        1 => nest(b"[", b"", b"]", n),
        2 => nest(b"f(", b"x", b")", n),
        3 => repeat(b"x = 1", b" + 1", n, b"\n"),
        4 => repeat(b"    op.execute(", b"-", n, b"1)\n"),
        5 => repeat(b"x = a", b"[0]", n, b"\n"),
        6 => repeat(b"x = a", b".b", n, b"\n"),
        7 => repeat(b"x = ", b"not ", n, b"1\n"),
        8 => {
            let mut out = Vec::new();
            for depth in 0..n.min(2_000) {
                out.extend(std::iter::repeat_n(b' ', depth));
                out.extend_from_slice(b"if x:\n");
            }
            out
        }
        // Many parents: each missing one is a finding, so the count stays small enough for
        // the machine (the unbounded output this can cause is measured by the benchmarks).
        _ => repeat(b"down_revision = (", b"'a', ", n.min(2_000), b")\n"),
    }
}

/// YAML: flow sequences and mappings, block nesting, anchors and aliases, long keys.
pub fn deep_yaml(rng: &mut Rng, n: usize) -> Vec<u8> {
    match rng.below(6) {
        0 => nest(b"[", b"", b"]", n),
        1 => nest(b"{a: ", b"1", b"}", n),
        2 => {
            let mut out = Vec::new();
            for depth in 0..n.min(3_000) {
                out.extend(std::iter::repeat_n(b' ', depth));
                out.extend_from_slice(b"- \n");
            }
            out
        }
        3 => {
            let mut out = Vec::new();
            for depth in 0..n.min(3_000) {
                out.extend(std::iter::repeat_n(b' ', depth));
                out.extend_from_slice(b"k:\n");
            }
            out
        }
        4 => repeat(b"a: &a [", b"*a, ", n.min(10_000), b"]\n"),
        _ => {
            let mut out = b"tables:\n  t:\n    columns:\n".to_vec();
            for i in 0..n.min(20_000) {
                out.extend_from_slice(format!("      c{i}: integer\n").as_bytes());
            }
            out
        }
    }
}

/// SQL: parenthesised expressions, operator chains, long lists, nested subqueries.
pub fn deep_sql(rng: &mut Rng, n: usize) -> Vec<u8> {
    match rng.below(7) {
        0 => nest(b"(", b"1", b")", n),
        1 => repeat(b"SELECT 1", b" + 1", n, b""),
        2 => repeat(b"SELECT ", b"- ", n, b"1"),
        3 => nest(b"SELECT * FROM (", b"SELECT 1", b") AS s", n),
        4 => repeat(b"CREATE TABLE t (c0 int", b", c int", n, b")"),
        5 => repeat(
            b"ALTER TABLE t ADD COLUMN a int",
            b", ADD COLUMN b int",
            n,
            b"",
        ),
        _ => repeat(b"", b"SELECT 1;", n, b""),
    }
}

pub const PYTHON_TOKENS: &[&[u8]] = &[
    b"revision = ",
    b"down_revision = (",
    b"branch_labels = ",
    b"depends_on = ",
    b"op.execute(",
    b"op.create_table(",
    b"op.add_column(",
    b"op.alter_column(",
    b"op.drop_table(",
    b"sa.Column(",
    b"sa.Integer()",
    b"sa.String(length=",
    b"sa.Enum(",
    b"def upgrade():\n    ",
    b"def downgrade():\n    ",
    b"    ",
    b"\n    op.add_column('users', sa.Column('x', sa.Integer(), nullable=False))\n",
    b"\n    with op.batch_alter_table('users') as batch_op:\n        ",
    b"batch_op.",
    b"with op.get_context().autocommit_block():\n",
    b"lambda: ",
    b"**",
    b"*",
    b":=",
    b"f'{x}'",
    b"f\"{",
    b"# driftlint: ignore[",
    b"# driftlint: ignore",
    b"None",
    b"True",
    b"(",
    b")",
    b"[",
    b"]",
    b",",
    b"=",
    b"from alembic import op\n",
    b"import sqlalchemy as sa\n",
    b"# -*- coding: latin-1 -*-\n",
    b"# -*- coding: utf-16 -*-\n",
    b"'''",
    b"\"\"\"",
    b"r'",
    b"b'",
    b"\\\n",
    b"if True:\n",
    b"try:\n",
    b"class X:\n",
    b"async def upgrade():\n",
    b"global revision\n",
    b"del revision\n",
    b"revision: str = ",
    b"Revises: ",
    b"Revision ID: ",
];

pub const YAML_TOKENS: &[&[u8]] = &[
    b": ",
    b"- ",
    b"&a ",
    b"*a",
    b"!!str ",
    b"!!binary ",
    b"!!int ",
    b"!!map ",
    b"? ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"|\n",
    b">-\n",
    b"---\n",
    b"...\n",
    b"<<: *a\n",
    b"~",
    b"null",
    b"true",
    b"0x7f",
    b"0o17",
    b".inf",
    b"'",
    b"\"",
    b"# ",
    b"tables:\n",
    b"columns:\n",
    b"type: ",
    b"nullable: ",
    b"primary_key: ",
    b"heads: ",
    b"sequences: ",
    b"schema: ",
    b"lint:\n",
    b"ignore:\n",
    b"severity: ",
    b"rule: ",
    b"forbidden_columns: ",
    b"  ",
    b"%YAML 1.2\n",
    b"%TAG ! tag:x,2000:\n",
    b"!<tag:x> ",
    b"\"\\u0000\"",
    b"\"\\xff\"",
    b"integer",
    b"varchar(99999999999)",
    b"numeric(1000, -5)",
    b"timestamptz",
    b"int[][][]",
    b"public.",
    b"\"Quoted Type\"",
];

pub const SQL_TOKENS: &[&[u8]] = &[
    b"CREATE TABLE ",
    b"CREATE TABLE IF NOT EXISTS ",
    b"ALTER TABLE ",
    b"ALTER TABLE ONLY ",
    b"ADD COLUMN ",
    b"DROP COLUMN ",
    b"DROP TABLE ",
    b"RENAME TO ",
    b"RENAME COLUMN ",
    b"ALTER COLUMN ",
    b" TYPE ",
    b"SET NOT NULL",
    b"DROP NOT NULL",
    b"SET DEFAULT ",
    b"(",
    b")",
    b",",
    b";",
    b"'",
    b"\"",
    b"$$",
    b"$tag$",
    b"--",
    b"/*",
    b"*/",
    b"::",
    b"E'\\",
    b"U&\"",
    b"nextval('",
    b"DEFAULT ",
    b"NOT NULL",
    b"PRIMARY KEY",
    b"REFERENCES ",
    b"CHECK (",
    b"CREATE INDEX ",
    b"CREATE UNIQUE INDEX ",
    b"CONCURRENTLY ",
    b"serial",
    b"bigserial",
    b"varchar(99999999999)",
    b"numeric(1000,-5)",
    b"int[][][]",
    b"GENERATED ALWAYS AS IDENTITY",
    b"GENERATED BY DEFAULT AS IDENTITY (START WITH 99999999999999999999)",
    b"USING ",
    b"CASCADE",
    b"IF EXISTS ",
    b"CREATE SEQUENCE ",
    b"OWNED BY ",
    b"COMMENT ON ",
    b"DO $$ BEGIN END $$",
    b"CREATE TYPE ",
    b"AS ENUM (",
    b"ALTER TYPE ",
    b"ADD VALUE ",
    b"CREATE SCHEMA ",
    b"public.",
    b"\"\"",
    b"WITH (",
    b"PARTITION BY RANGE (",
    b"INHERITS (",
];
