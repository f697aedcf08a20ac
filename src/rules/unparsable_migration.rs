use super::{Context, Finding};

pub fn check(_ctx: &Context<'_>, _out: &mut Vec<Finding>) {}
