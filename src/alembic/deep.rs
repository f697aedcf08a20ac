//! Deep and long Python input without deep recursion.
//!
//! `ruff_python_parser` grows its own stack on the heap (`stacker`), so parsing any nesting
//! works; everything after the parser walks the tree recursively: the header evaluation, the
//! lowering (ruff's `Visitor`), and Rust's drop glue. Three defences keep those from
//! overflowing the stack:
//!
//! - [`nesting_beyond_limit`] measures the tree's depth without recursion and finds the first
//!   node nested deeper than [`MAX_NESTING`]; such a file becomes an `unparsable-migration`
//!   finding instead of being read. The left operand chain of a binary operator
//!   (`"a" + "b" + "c"`, which the parser builds as a left-leaning tree as deep as the chain is
//!   long) counts as one level: the code that evaluates such chains walks them in a loop.
//! - [`dismantle`] drops a tree with an explicit work list, so that no tree, however deep,
//!   recurses in its destructor.
//! - [`on_large_stack`] runs the reading of revision files on threads with a large stack
//!   ([`STACK_SIZE`]), so that the recursion that remains (at most [`MAX_NESTING`] levels of
//!   lowering) has room in debug builds too.

use std::cell::RefCell;
use std::sync::OnceLock;

use ruff_python_ast::visitor::transformer::{self, Transformer};
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    AtomicNodeIndex, Expr, ExprNoneLiteral, ModModule, Pattern, PatternMatchSingleton, Singleton,
    Stmt, StmtPass,
};
use ruff_text_size::{Ranged, TextRange};

/// The deepest nesting of statements and expressions a revision file may have. CPython 3.11
/// itself refuses to compile a few thousand levels ("maximum recursion depth exceeded during
/// compilation"); real migrations nest a few dozen.
pub const MAX_NESTING: usize = 1_000;

/// The stack of the threads that read revision files. Only the pages used are ever touched, so
/// this is address space, not memory.
pub const STACK_SIZE: usize = 256 * 1024 * 1024;

/// Runs `f` on a thread pool whose threads have a [`STACK_SIZE`] stack; rayon's parallel
/// iterators inside `f` use that pool. Falls back to the caller's thread (and rayon's global
/// pool) when the pool cannot be built.
pub fn on_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("driftlint-read-{i}"))
            .stack_size(STACK_SIZE)
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Whether the tokens of `text` nest deeper than [`MAX_NESTING`] levels, found before parsing:
/// brackets, and runs of prefix operators (`- - x`, `not not x`), make the parser recurse and
/// hold a stack frame per level, so 100,000 of them cost hundreds of megabytes to parse only to
/// be refused by [`nesting_beyond_limit`]. `Some` holds where: the byte offset of the first
/// bracket or operator beyond the limit by a plain scan of the bytes (which does not know
/// strings and comments, so it only places the finding), or 0.
///
/// Files up to 16 KiB are left to the parser and the tree's depth check; for larger ones the
/// lexer runs only when a scan of the bytes allows more than [`MAX_NESTING`] levels of brackets
/// and prefix operators, or the file is over 64 KiB.
pub fn tokens_beyond_limit(text: &str) -> Option<usize> {
    // A file this small nests at most about 8,000 levels: it is parsed (the parser keeps its
    // own stack on the heap) and refused by the tree's depth, at no cost to ordinary files.
    if text.len() <= 16 * 1024 {
        return None;
    }
    // An estimate from the bytes alone, strings and comments included: the deepest bracket
    // nesting plus the longest run of prefix-operator bytes (white space inside a run kept).
    // Closing brackets inside strings can make it low, so the lexer also runs for any file over
    // 64 KiB; a smaller file that slips through is parsed (at most about 20,000 levels, the
    // parser's own stack on the heap) and refused by the tree's depth.
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut run = 0usize;
    let mut longest_run = 0usize;
    for byte in text.bytes() {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                run = 0;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                run = 0;
            }
            b'-' | b'+' | b'~' | b'*' => {
                run += 1;
                longest_run = longest_run.max(run);
            }
            b' ' | b'\t' | b'\n' | b'\r' | b'\\' => {}
            _ => run = 0,
        }
    }
    if deepest + longest_run <= MAX_NESTING && text.len() <= 64 * 1024 {
        return None;
    }
    use ruff_python_ast::token::TokenKind as T;
    let mut lexer = ruff_python_parser::lexer::lex(text, ruff_python_parser::Mode::Module);
    let mut brackets = 0usize;
    let mut prefix_run = 0usize;
    loop {
        match lexer.next_token() {
            T::EndOfFile => return None,
            T::Lpar | T::Lsqb | T::Lbrace => {
                brackets += 1;
                prefix_run = 0;
            }
            T::Rpar | T::Rsqb | T::Rbrace => {
                brackets = brackets.saturating_sub(1);
                prefix_run = 0;
            }
            T::Minus | T::Plus | T::Tilde | T::Not | T::Await | T::Star | T::DoubleStar => {
                prefix_run += 1;
            }
            _ => prefix_run = 0,
        }
        if brackets + prefix_run > MAX_NESTING {
            return Some(place_by_bytes(text));
        }
    }
}

/// Where a plain scan of the bytes finds more than [`MAX_NESTING`] open brackets or
/// consecutive prefix operators; 0 when it finds none.
fn place_by_bytes(text: &str) -> usize {
    let mut brackets = 0usize;
    let mut run = 0usize;
    for (offset, byte) in text.bytes().enumerate() {
        match byte {
            b'(' | b'[' | b'{' => {
                brackets += 1;
                run = 0;
            }
            b')' | b']' | b'}' => {
                brackets = brackets.saturating_sub(1);
                run = 0;
            }
            b'-' | b'+' | b'~' | b'*' => run += 1,
            b' ' | b'\t' | b'\\' | b'\r' | b'\n' => {}
            _ => run = 0,
        }
        if brackets + run > MAX_NESTING {
            return offset;
        }
    }
    0
}

/// The range of the first node (in a depth-first walk) nested more than [`MAX_NESTING`] levels
/// deep, if any.
pub fn nesting_beyond_limit(module: &ModModule) -> Option<TextRange> {
    nesting_beyond(module, MAX_NESTING)
}

fn nesting_beyond(module: &ModModule, limit: usize) -> Option<TextRange> {
    let mut meter = Meter {
        pending: Vec::new(),
        depth: 0,
        chain_left: None,
    };
    meter.visit_body(&module.body);
    while let Some((node, depth)) = meter.pending.pop() {
        if depth > limit {
            return Some(node.range());
        }
        meter.depth = depth;
        match node {
            Node::Stmt(stmt) => {
                meter.chain_left = None;
                visitor::walk_stmt(&mut meter, stmt);
            }
            Node::Expr(expr) => {
                meter.chain_left = match expr {
                    Expr::BinOp(binop) if matches!(*binop.left, Expr::BinOp(_)) => {
                        Some(std::ptr::from_ref(binop.left.as_ref()))
                    }
                    _ => None,
                };
                visitor::walk_expr(&mut meter, expr);
            }
            Node::Pattern(pattern) => {
                meter.chain_left = None;
                visitor::walk_pattern(&mut meter, pattern);
            }
        }
    }
    None
}

#[derive(Clone, Copy)]
enum Node<'a> {
    Stmt(&'a Stmt),
    Expr(&'a Expr),
    Pattern(&'a Pattern),
}

impl Node<'_> {
    fn range(self) -> TextRange {
        match self {
            Node::Stmt(stmt) => stmt.range(),
            Node::Expr(expr) => expr.range(),
            Node::Pattern(pattern) => pattern.range(),
        }
    }
}

/// Walks one node at a time: the visitor's callbacks queue the children (with their depth)
/// instead of descending into them.
struct Meter<'a> {
    pending: Vec<(Node<'a>, usize)>,
    /// The depth of the node being walked.
    depth: usize,
    /// The left operand of the binary operation being walked, when it is itself a binary
    /// operation: it continues the chain at the same depth.
    chain_left: Option<*const Expr>,
}

impl<'a> Visitor<'a> for Meter<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.pending.push((Node::Stmt(stmt), self.depth + 1));
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        let depth = if self.chain_left == Some(std::ptr::from_ref(expr)) {
            self.depth
        } else {
            self.depth + 1
        };
        self.pending.push((Node::Expr(expr), depth));
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        self.pending.push((Node::Pattern(pattern), self.depth + 1));
    }
}

/// The largest text whose tree is dropped the ordinary, recursive way: a 64 KiB file nests at
/// most about 32,000 levels (two bytes a level, as in `1+1+…`), a few megabytes of the reading
/// threads' 256 MiB stack.
const SMALL_TEXT: usize = 64 * 1024;

/// Drops the tree parsed from `text_len` bytes on a reading thread: recursively when the text
/// is too small to nest deep, with [`dismantle`] otherwise (which walks every node, a cost
/// ordinary revision files need not pay).
pub fn drop_tree(module: ModModule, text_len: usize) {
    if text_len <= SMALL_TEXT {
        drop(module);
    } else {
        dismantle(module);
    }
}

/// Drops `module` without recursion: every statement, expression and pattern is detached from
/// its parent (replaced by a leaf) before it is dropped.
pub fn dismantle(module: ModModule) {
    let mut body = module.body;
    let dismantler = Dismantler::default();
    for stmt in &mut body {
        dismantler.visit_stmt(stmt);
    }
    drop(body);
    loop {
        let stmt = dismantler.stmts.borrow_mut().pop();
        if let Some(mut stmt) = stmt {
            transformer::walk_stmt(&dismantler, &mut stmt);
            continue;
        }
        let expr = dismantler.exprs.borrow_mut().pop();
        if let Some(mut expr) = expr {
            transformer::walk_expr(&dismantler, &mut expr);
            continue;
        }
        let pattern = dismantler.patterns.borrow_mut().pop();
        if let Some(mut pattern) = pattern {
            transformer::walk_pattern(&dismantler, &mut pattern);
            continue;
        }
        break;
    }
}

#[derive(Default)]
struct Dismantler {
    stmts: RefCell<Vec<Stmt>>,
    exprs: RefCell<Vec<Expr>>,
    patterns: RefCell<Vec<Pattern>>,
}

impl Transformer for Dismantler {
    fn visit_stmt(&self, stmt: &mut Stmt) {
        let leaf = Stmt::Pass(StmtPass {
            node_index: AtomicNodeIndex::default(),
            range: TextRange::default(),
        });
        self.stmts.borrow_mut().push(std::mem::replace(stmt, leaf));
    }

    fn visit_expr(&self, expr: &mut Expr) {
        let leaf = Expr::NoneLiteral(ExprNoneLiteral::default());
        self.exprs.borrow_mut().push(std::mem::replace(expr, leaf));
    }

    fn visit_pattern(&self, pattern: &mut Pattern) {
        let leaf = Pattern::MatchSingleton(PatternMatchSingleton {
            node_index: AtomicNodeIndex::default(),
            range: TextRange::default(),
            value: Singleton::None,
        });
        self.patterns
            .borrow_mut()
            .push(std::mem::replace(pattern, leaf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> ModModule {
        ruff_python_parser::parse_module(source)
            .expect("valid Python")
            .into_syntax()
    }

    fn depth_of(source: &str) -> usize {
        let module = parse(source);
        let depth = (0..64)
            .find(|&limit| nesting_beyond(&module, limit).is_none())
            .expect("shallow");
        dismantle(module);
        depth
    }

    #[test]
    fn depth_counts_statements_and_expressions_but_not_operator_chains() {
        // Module → assignment → value.
        assert_eq!(depth_of("x = 1"), 2);
        assert_eq!(depth_of("x = -1"), 3);
        assert_eq!(depth_of("x = a[0][0]"), 4);
        assert_eq!(depth_of("def f():\n    x = 1\n"), 3);
        // The chain `1 + 2 + 3 + 4` is one level, its operands the next.
        assert_eq!(depth_of("x = 1 + 2 + 3 + 4"), 3);
        assert_eq!(depth_of("x = 1 + 2"), 3);
        // A right operand that is itself a chain nests.
        assert_eq!(depth_of("x = 1 + (2 + 3)"), 4);
    }

    #[test]
    fn the_first_node_beyond_the_limit_is_found() {
        let source = format!("x = 1\ny = {}1\n", "-".repeat(10));
        let module = parse(&source);
        let range = nesting_beyond(&module, 5).expect("too deep");
        // `y` starts at offset 6; depth 6 is the fifth unary operator.
        assert_eq!(range.start().to_usize(), 6 + 4 + 4);
        assert_eq!(nesting_beyond(&module, 12), None);
        dismantle(module);
    }

    #[test]
    fn deep_tokens_are_found_before_parsing() {
        let n = MAX_NESTING + 1;
        // Files over 16 KiB are checked before parsing; the padding comes after what counts.
        let padded = |text: String| format!("{text}# {}\n", "x".repeat(17 * 1024));
        let brackets = format!("x = 1\ny = {}{}\n", "[".repeat(n), "]".repeat(n));
        assert_eq!(
            tokens_beyond_limit(&padded(brackets.clone())),
            Some(6 + 4 + MAX_NESTING)
        );
        // A small file is left to the parser and the tree's depth check.
        assert_eq!(tokens_beyond_limit(&brackets), None);
        let unary = format!("y = {}1\n", "- ".repeat(n));
        assert_eq!(
            tokens_beyond_limit(&padded(unary)),
            Some(4 + 2 * MAX_NESTING)
        );
        // A run of `not` has no bracket or operator byte: the lexer runs only for a file over
        // 64 KiB (a smaller one is parsed and refused by the tree's depth).
        assert_eq!(
            tokens_beyond_limit(&padded(format!("y = {}1\n", "not ".repeat(n)))),
            None
        );
        let nots = format!("y = {}1\n", "not ".repeat(70_000));
        assert!(tokens_beyond_limit(&nots).is_some());
        // Brackets inside a string and many flat operators or lists are not nesting.
        let string = format!("x = '{}'\n", "[".repeat(n));
        assert_eq!(tokens_beyond_limit(&padded(string)), None);
        let flat = format!(
            "x = {}\ny = [{}]\n",
            vec!["1"; n].join(" - "),
            "[], ".repeat(n)
        );
        assert_eq!(tokens_beyond_limit(&padded(flat)), None);
        // Just under the limit.
        let under = format!(
            "y = {}{}\n",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert_eq!(tokens_beyond_limit(&padded(under)), None);
    }

    #[test]
    fn deep_trees_are_measured_and_dropped_on_a_small_stack() {
        // The test thread has the default 2 MiB stack; the parser grows its own.
        let source = format!(
            "x = {}1\ny = a{}\n",
            "-".repeat(100_000),
            "[0]".repeat(100_000)
        );
        let module = parse(&source);
        assert!(nesting_beyond_limit(&module).is_some());
        dismantle(module);
        let chain = format!("x = {}\n", vec!["1"; 200_000].join(" + "));
        let module = parse(&chain);
        assert_eq!(nesting_beyond_limit(&module), None);
        dismantle(module);
    }
}
