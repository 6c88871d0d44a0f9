//! How diagnostics name what is at fault. The syntax-error locator and the
//! semantic checks share these names, so one thing is always called the same way.

/// An array of tables whose elements are named by one of their keys.
pub(super) struct Named {
    /// The key of the array in the file (`items`).
    pub array: &'static str,
    /// What one element is called in messages (`item`).
    pub noun: &'static str,
    /// The key that names an element (`id`).
    pub name_key: &'static str,
}

pub(super) const ITEM: Named = Named {
    array: "items",
    noun: "item",
    name_key: "id",
};
pub(super) const DOMAIN: Named = Named {
    array: "domains",
    noun: "domain",
    name_key: "code",
};
pub(super) const INDICATOR: Named = Named {
    array: "indicators",
    noun: "indicator",
    name_key: "code",
};
pub(super) const OPTION: Named = Named {
    array: "options",
    noun: "option",
    name_key: "code",
};
pub(super) const SCALE: Named = Named {
    array: "scales",
    noun: "scale",
    name_key: "id",
};
pub(super) const LEVEL: Named = Named {
    array: "levels",
    noun: "level",
    name_key: "code",
};

/// Every named array, for looking one up by its key.
pub(super) const ALL_NAMED: [&Named; 6] = [&ITEM, &DOMAIN, &INDICATOR, &OPTION, &SCALE, &LEVEL];

impl Named {
    /// `item 'LD03'`, or `items[3]` (0-based) when the element has no usable name.
    pub(super) fn subject(&self, name: &str, index: usize) -> String {
        if name.trim().is_empty() {
            format!("{}[{index}]", self.array)
        } else {
            format!("{} '{name}'", self.noun)
        }
    }

    /// The element's subject nested in its parent's: `domain 'ld', indicator 'informasi'`.
    pub(super) fn subject_within(&self, parent: &str, name: &str, index: usize) -> String {
        format!("{parent}, {}", self.subject(name, index))
    }
}

/// A fixed table of the file: `[missing]`.
pub(super) fn section(name: &str) -> String {
    format!("[{name}]")
}

/// An array of tables of the file: `[[items]]`.
pub(super) fn array_section(name: &str) -> String {
    format!("[[{name}]]")
}

/// A list of names for "did you mean" context: `a, b, c`, or `none` when empty.
pub(super) fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let joined = names.into_iter().collect::<Vec<_>>().join(", ");
    if joined.is_empty() {
        "none".to_owned()
    } else {
        joined
    }
}
