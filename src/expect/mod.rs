//! The expectations file.

/// What the expectations file declares.
#[derive(Clone, Debug, Default)]
pub struct Expectations {}
