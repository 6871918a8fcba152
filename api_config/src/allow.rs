//! [`AllowList`]: the `allowInterfaces` / `allowClasses` lists of a route. An entry is an exact
//! name (`com.example.UserService`), a package with everything below it (`com.example.*`), or
//! `*` for anything.

/// Names a route accepts from the client (interfaces for `opt.interface`, classes for `class`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<String>,
}

impl AllowList {
    /// A list from entries already checked with [`AllowList::check_entry`].
    pub fn new(entries: Vec<String>) -> Self {
        AllowList { entries }
    }

    /// The entries as written.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// True when there are no entries (nothing is allowed).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// True when `name` is an exact entry, lies in a `pkg.*` entry's package tree, or `*` is listed.
    pub fn allows(&self, name: &str) -> bool {
        self.entries.iter().any(|e| {
            if e == "*" {
                return true;
            }
            match e.strip_suffix('*') {
                Some(pkg) => name.len() > pkg.len() && name.starts_with(pkg),
                None => e == name,
            }
        })
    }

    /// Why `entry` is not a valid entry, if it is not.
    pub fn check_entry(entry: &str) -> Option<String> {
        if entry == "*" {
            return None;
        }
        let name = entry.strip_suffix(".*").unwrap_or(entry);
        let ok = !name.is_empty()
            && name.split('.').all(|p| {
                let mut c = p.chars();
                c.next()
                    .is_some_and(|f| f.is_alphabetic() || f == '_' || f == '$')
                    && c.all(|x| x.is_alphanumeric() || x == '_' || x == '$')
            });
        (!ok).then(|| {
            format!("{entry:?} is not a class or package name (use com.example.Name, com.example.* or *)")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_exact_package_and_star() {
        let list = AllowList::new(vec!["com.a.UserService".into(), "com.b.*".into()]);
        let cases = [
            ("com.a.UserService", true),
            ("com.a.UserServiceX", false),
            ("com.a.Other", false),
            ("com.b.X", true),
            ("com.b.sub.Y", true),
            ("com.b.", false),
            ("com.bX.Y", false),
            ("com.b", false),
        ];
        for (name, want) in cases {
            assert_eq!(list.allows(name), want, "{name}");
        }
        assert!(AllowList::new(vec!["*".into()]).allows("anything.At.All"));
        assert!(!AllowList::default().allows("x"));
    }

    #[test]
    fn checks_entries() {
        for ok in ["*", "com.x", "com.x.*", "com.x.Y$Z"] {
            assert_eq!(AllowList::check_entry(ok), None, "{ok}");
        }
        for bad in ["", "com.*.x", "com..x", ".*", "com x", "com.x*"] {
            assert!(AllowList::check_entry(bad).is_some(), "{bad}");
        }
    }
}
