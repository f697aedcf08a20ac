//! Lowering a revision file's `upgrade()` into [`Op`]s.

use ruff_python_ast::ModModule;

use crate::schema::ops::OpAt;
use crate::source::FileId;

/// The operations of the module's `upgrade()` function, in order. Module-level helper functions
/// and constants in `module` may be followed; what cannot be modelled becomes `Op::Unmodeled`.
pub fn lower_upgrade(module: &ModModule, text: &str, file: FileId) -> Vec<OpAt> {
    let _ = (module, text, file);
    Vec::new()
}
