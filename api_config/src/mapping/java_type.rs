//! A small syntactic check for Java type names written in `mapType`, `parameterTypes` and
//! request-supplied `opt.types`. It accepts pixiu's aliases (`string`, `int`, `date`, `object`,
//! ...), class names, arrays (`int[]`, `[I`, `[Ljava.lang.String;`) and generic arguments
//! (`java.util.List<com.x.Dto>`). The protocol crate's `JavaType` does the real parsing.

/// True when `name` looks like a Java type name (see module docs).
pub fn is_valid_java_type(name: &str) -> bool {
    let name = name.trim();
    if name.is_empty() || name.len() > 512 {
        return false;
    }
    if let Some(rest) = name.strip_prefix('[') {
        return is_jvm_array(rest);
    }
    let mut base = name;
    while let Some(inner) = base.strip_suffix("[]") {
        base = inner.trim_end();
    }
    match base.split_once('<') {
        Some((raw, args)) => {
            let Some(args) = args.trim_end().strip_suffix('>') else {
                return false;
            };
            is_class_name(raw.trim())
                && split_type_args(args).is_some_and(|parts| parts.iter().all(|p| is_type_arg(p)))
        }
        None => is_class_name(base),
    }
}

/// `[I`, `[[J`, `[Ljava.lang.String;` (after the first `[`).
fn is_jvm_array(rest: &str) -> bool {
    let rest = rest.trim_start_matches('[');
    match rest.as_bytes() {
        [b'Z' | b'B' | b'S' | b'I' | b'J' | b'F' | b'D' | b'C'] => true,
        [b'L', .., b';'] => is_class_name(&rest[1..rest.len() - 1]),
        _ => false,
    }
}

/// `?`, `? extends X`, `? super X` or a type.
fn is_type_arg(arg: &str) -> bool {
    let arg = arg.trim();
    if arg == "?" {
        return true;
    }
    if let Some(bound) = arg
        .strip_prefix("? extends ")
        .or_else(|| arg.strip_prefix("? super "))
    {
        return is_valid_java_type(bound);
    }
    is_valid_java_type(arg)
}

/// Splits `A, B<C, D>` at top-level commas; `None` when `<`/`>` do not balance.
fn split_type_args(args: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in args.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.checked_sub(1)?,
            ',' if depth == 0 => {
                parts.push(&args[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    (depth == 0).then(|| {
        parts.push(&args[start..]);
        parts
    })
}

/// Dotted Java identifiers (`com.example.User$Inner`, `int`, `string`).
fn is_class_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_java_type_names() {
        let cases = [
            ("string", true),
            ("int", true),
            ("java.lang.String", true),
            ("java.util.Date", true),
            ("com.example.User", true),
            ("com.example.Outer$Inner", true),
            ("int[]", true),
            ("java.lang.String[][]", true),
            ("[I", true),
            ("[[J", true),
            ("[Ljava.lang.String;", true),
            ("java.util.List<com.example.User>", true),
            (
                "java.util.Map<java.lang.String, java.util.List<java.lang.Long>>",
                true,
            ),
            ("java.util.List<? extends com.x.A>", true),
            ("", false),
            ("  ", false),
            ("1abc", false),
            ("com..User", false),
            ("com.example.", false),
            ("java lang", false),
            ("List<", false),
            ("List<a>>", false),
            ("[X", false),
            ("[Ljava.lang.String", false),
            ("a-b", false),
        ];
        for (name, want) in cases {
            assert_eq!(is_valid_java_type(name), want, "{name:?}");
        }
    }
}
