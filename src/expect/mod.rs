//! The expectations file.
