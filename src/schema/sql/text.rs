//! Token-level helpers for SQL text the replay keeps (check conditions, index expressions):
//! the identifiers it names, and a rename applied to them.

use super::*;

/// The identifiers a SQL fragment (a check condition, an index expression) uses, folded as
/// PostgreSQL folds them. Function names (a word before `(`) and type names (after `::`) are left
/// out; keywords are not, so the caller matches the result against real column names.
pub(crate) fn referenced_identifiers(sql: &str) -> Vec<String> {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .with_unescape(false)
        .tokenize()
    else {
        return Vec::new();
    };
    let significant: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut found = Vec::new();
    for (i, token) in significant.iter().enumerate() {
        if let Token::Word(word) = token {
            let before_call = matches!(significant.get(i + 1), Some(Token::LParen));
            let after_cast = i > 0 && matches!(significant[i - 1], Token::DoubleColon);
            if !before_call && !after_cast {
                found.push(fold_word(&word.value, word.quote_style));
            }
        }
    }
    found
}

/// `sql` with every use of the identifier `old` replaced by `new` (quoted where needed), as
/// PostgreSQL's stored expressions follow a column rename.
pub(crate) fn rename_identifier(sql: &str, old: &str, new: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .with_unescape(false)
        .tokenize()
    else {
        return sql.to_owned();
    };
    let mut out = String::with_capacity(sql.len());
    let mut previous_significant: Option<&Token> = None;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Word(word)
                if fold_word(&word.value, word.quote_style) == old
                    && !matches!(previous_significant, Some(Token::DoubleColon))
                    && !matches!(
                        tokens[i + 1..]
                            .iter()
                            .find(|t| !matches!(t, Token::Whitespace(_))),
                        Some(Token::LParen)
                    ) =>
            {
                out.push_str(&quote_ident(new));
            }
            other => out.push_str(&other.to_string()),
        }
        if !matches!(token, Token::Whitespace(_)) {
            previous_significant = Some(token);
        }
    }
    out
}
