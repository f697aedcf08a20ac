//! Bytes to text as Python reads a source file: a UTF-8 BOM, a PEP 263 coding line, the
//! single-byte encodings Python knows by those names.

use std::borrow::Cow;

use super::super::problems::{self as rule, BadByte};
use crate::diagnostic::Finding;
use crate::source::{FileId, Span, line_col};

pub(super) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The encodings driftlint decodes, named as Python's codec registry would accept them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Encoding {
    Utf8,
    Latin1,
    Cp1252,
    Ascii,
}

impl Encoding {
    fn from_python_name(name: &str) -> Option<Encoding> {
        let name = name.to_ascii_lowercase().replace('_', "-");
        let encoding = match name.as_str() {
            "utf-8" | "utf8" | "u8" | "utf" | "cp65001" => Encoding::Utf8,
            "latin-1" | "latin1" | "latin" | "l1" | "iso-8859-1" | "iso8859-1" | "8859"
            | "cp819" | "iso-latin-1" | "iso-ir-100" | "csisolatin1" => Encoding::Latin1,
            "cp1252" | "windows-1252" => Encoding::Cp1252,
            "ascii" | "us-ascii" | "646" | "us" => Encoding::Ascii,
            // Python's tokenizer folds `utf-8-*` and `latin-1-*` variants (`utf-8-sig`,
            // `latin-1-unix`) into the base encodings.
            _ if name.starts_with("utf-8-") => Encoding::Utf8,
            _ if name.starts_with("latin-1-") || name.starts_with("iso-8859-1-") => {
                Encoding::Latin1
            }
            _ => return None,
        };
        Some(encoding)
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Latin1 => "latin-1",
            Encoding::Cp1252 => "cp1252",
            Encoding::Ascii => "ASCII",
        }
    }
}

/// A PEP 263 coding declaration: the encoding name and the 1-based line (1 or 2) holding it.
pub(super) struct CodingCookie<'a> {
    name: &'a str,
    line: usize,
}

/// The coding declaration of `body` (the file after any BOM), read as Python's tokenizer reads
/// it: `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)` on the first line, or on the second when the
/// first is blank or a comment.
pub(super) fn coding_cookie(body: &[u8]) -> Option<CodingCookie<'_>> {
    let mut lines = body.split(|&b| b == b'\n');
    let first = lines.next()?;
    if let Some(name) = cookie_on_line(first) {
        return Some(CodingCookie { name, line: 1 });
    }
    let first_is_blank_or_comment = first
        .iter()
        .find(|&&b| !matches!(b, b' ' | b'\t' | b'\x0c'))
        .is_none_or(|&b| matches!(b, b'#' | b'\r'));
    if !first_is_blank_or_comment {
        return None;
    }
    let name = cookie_on_line(lines.next()?)?;
    Some(CodingCookie { name, line: 2 })
}

pub(super) fn cookie_on_line(line: &[u8]) -> Option<&str> {
    let start = line
        .iter()
        .position(|&b| !matches!(b, b' ' | b'\t' | b'\x0c'))?;
    if line[start] != b'#' {
        return None;
    }
    let comment = &line[start + 1..];
    let marker = comment
        .windows(7)
        .position(|w| w.starts_with(b"coding") && matches!(w[6], b':' | b'='))?;
    let after = &comment[marker + 7..];
    let after = &after[after
        .iter()
        .take_while(|&&b| matches!(b, b' ' | b'\t'))
        .count()..];
    let length = after
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        .count();
    if length == 0 {
        return None;
    }
    std::str::from_utf8(&after[..length]).ok()
}

/// The file's text (without a BOM) and, when it cannot be decoded, the finding saying why. The
/// text of an undecodable file has each bad byte replaced by U+FFFD, so that the finding can
/// point into it.
pub(super) fn decode<'a>(
    bytes: &'a [u8],
    file: FileId,
    display: &dyn Fn() -> String,
) -> (Cow<'a, str>, Option<Finding>) {
    let (body, bom_length) = match bytes.strip_prefix(UTF8_BOM) {
        Some(body) => (body, UTF8_BOM.len()),
        None => (bytes, 0),
    };
    let cookie = coding_cookie(body);
    let encoding = match &cookie {
        None => Encoding::Utf8,
        Some(cookie) => match Encoding::from_python_name(cookie.name) {
            Some(encoding) => encoding,
            // Every encoding Python accepts for source files reads ASCII as ASCII, so a file
            // of ASCII bytes reads the same whatever it declares.
            None if body.is_ascii() => Encoding::Ascii,
            None => {
                let text = String::from_utf8_lossy(body);
                let span = Span::new(file, line_range(&text, cookie.line));
                let finding = rule::unsupported_encoding(span, &display(), cookie.name);
                return (text, Some(finding));
            }
        },
    };
    if bom_length > 0
        && encoding != Encoding::Utf8
        && let Some(cookie) = &cookie
    {
        let text = String::from_utf8_lossy(body);
        let span = Span::new(file, line_range(&text, cookie.line));
        let finding = rule::bom_with_other_encoding(span, &display(), cookie.name);
        return (text, Some(finding));
    }

    let declared = cookie.is_some();
    let (text, first_bad) = match encoding {
        Encoding::Utf8 => match std::str::from_utf8(body) {
            Ok(text) => return (Cow::Borrowed(text), None),
            Err(error) => {
                let offset = error.valid_up_to();
                (String::from_utf8_lossy(body), Some((offset, offset)))
            }
        },
        Encoding::Latin1 => (decode_single_byte(body, |b| Some(char::from(b))).0, None),
        Encoding::Cp1252 => decode_single_byte(body, cp1252_char),
        Encoding::Ascii => decode_single_byte(body, |b| b.is_ascii().then_some(char::from(b))),
    };
    let Some((raw_offset, text_offset)) = first_bad else {
        return (text, None);
    };
    let position = line_col(&text, text_offset);
    let bad = BadByte {
        byte: body[raw_offset],
        offset: raw_offset + bom_length,
        line: position.line,
        column: position.column,
    };
    let replacement_length = '\u{fffd}'.len_utf8();
    let span_end = (text_offset + replacement_length).min(text.len());
    let span = Span::new(file, to_u32(text_offset)..to_u32(span_end));
    let finding = rule::undecodable(span, &display(), encoding.name(), declared, bad);
    (text, Some(finding))
}

/// Decodes a single-byte encoding; bytes it does not define become U+FFFD, and the first of
/// them is returned as (byte offset in `body`, byte offset in the text).
pub(super) fn decode_single_byte(
    body: &[u8],
    decode_byte: impl Fn(u8) -> Option<char>,
) -> (Cow<'static, str>, Option<(usize, usize)>) {
    let mut text = String::with_capacity(body.len() + body.len() / 8);
    let mut first_bad = None;
    for (offset, &byte) in body.iter().enumerate() {
        match decode_byte(byte) {
            Some(c) => text.push(c),
            None => {
                first_bad.get_or_insert((offset, text.len()));
                text.push('\u{fffd}');
            }
        }
    }
    (Cow::Owned(text), first_bad)
}

/// Windows-1252: latin-1 except for 0x80–0x9F, five of which it leaves undefined (Python's
/// codec refuses them).
pub(super) fn cp1252_char(byte: u8) -> Option<char> {
    const HIGH: [Option<char>; 32] = [
        Some('\u{20AC}'),
        None,
        Some('\u{201A}'),
        Some('\u{0192}'),
        Some('\u{201E}'),
        Some('\u{2026}'),
        Some('\u{2020}'),
        Some('\u{2021}'),
        Some('\u{02C6}'),
        Some('\u{2030}'),
        Some('\u{0160}'),
        Some('\u{2039}'),
        Some('\u{0152}'),
        None,
        Some('\u{017D}'),
        None,
        None,
        Some('\u{2018}'),
        Some('\u{2019}'),
        Some('\u{201C}'),
        Some('\u{201D}'),
        Some('\u{2022}'),
        Some('\u{2013}'),
        Some('\u{2014}'),
        Some('\u{02DC}'),
        Some('\u{2122}'),
        Some('\u{0161}'),
        Some('\u{203A}'),
        Some('\u{0153}'),
        None,
        Some('\u{017E}'),
        Some('\u{0178}'),
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => Some(char::from(byte)),
    }
}

/// The byte range of 1-based `line` in `text`, without its line break.
pub(super) fn line_range(text: &str, line: usize) -> std::ops::Range<u32> {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(newline) => start += newline + 1,
            None => break,
        }
    }
    let end = text[start..]
        .find('\n')
        .map_or(text.len(), |newline| start + newline);
    let end = if text[start..end].ends_with('\r') {
        end - 1
    } else {
        end
    };
    to_u32(start)..to_u32(end)
}

pub(super) fn to_u32(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
}
