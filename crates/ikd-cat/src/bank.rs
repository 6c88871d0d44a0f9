//! The item bank of an adaptive test: every item with its domain, its
//! indicator and its IRT parameters, grouped the way content balancing and
//! per-domain scoring need them.

use ikd_irt::{Item, ItemBank};
use std::collections::HashMap;
use thiserror::Error;

/// One item the test may give.
#[derive(Clone, Debug, PartialEq)]
pub struct BankItem {
    pub id: String,
    /// Domain code: each domain is one unidimensional trait.
    pub domain: String,
    /// Indicator code within the domain (content balancing counts these).
    pub indicator: String,
    /// The item's response model and parameters (2PL, 3PL, GRM, GPCM, Rasch).
    pub irt: Item,
}

/// A domain of the bank: its indicators and items, both in order of first
/// appearance in the bank.
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    pub code: String,
    pub indicators: Vec<Indicator>,
    /// Bank indices of the domain's items.
    pub items: Vec<usize>,
}

/// An indicator of a domain and the bank indices of its items.
#[derive(Clone, Debug, PartialEq)]
pub struct Indicator {
    pub code: String,
    pub items: Vec<usize>,
}

/// Where an item sits: its domain, its indicator within the domain and its
/// position among the domain's items (the column of the domain's response
/// vector).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub domain: usize,
    pub indicator: usize,
    pub position: usize,
}

/// Why items cannot form a bank.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum BankError {
    #[error("the item bank has no items")]
    Empty,
    #[error("item '{0}' appears more than once in the item bank")]
    DuplicateItem(String),
    #[error("no IRT parameters for item(s) {}", .0.join(", "))]
    MissingParameters(Vec<String>),
    /// A domain's items do not form one IRT scale (e.g. Rasch items with
    /// different slopes, or two items with one IRT name).
    #[error("domain '{domain}': {reason}")]
    Scale { domain: String, reason: String },
}

/// Items grouped by domain and indicator. Item indices are positions in
/// [`Bank::items`]; a domain's items keep bank order, which is the order of
/// its response vector and of its IRT scorer.
#[derive(Clone, Debug)]
pub struct Bank {
    items: Vec<BankItem>,
    domains: Vec<Domain>,
    places: Vec<Place>,
    /// Per domain, its items' IRT parameters in the domain's order.
    scales: Vec<ItemBank>,
}

impl Bank {
    pub fn new(items: Vec<BankItem>) -> Result<Self, BankError> {
        if items.is_empty() {
            return Err(BankError::Empty);
        }
        let mut seen = HashMap::with_capacity(items.len());
        let mut domains: Vec<Domain> = Vec::new();
        let mut places = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            if seen.insert(item.id.as_str(), index).is_some() {
                return Err(BankError::DuplicateItem(item.id.clone()));
            }
            let domain = match domains.iter().position(|d| d.code == item.domain) {
                Some(d) => d,
                None => {
                    domains.push(Domain {
                        code: item.domain.clone(),
                        indicators: Vec::new(),
                        items: Vec::new(),
                    });
                    domains.len() - 1
                }
            };
            let entry = &mut domains[domain];
            let indicator = match entry
                .indicators
                .iter()
                .position(|i| i.code == item.indicator)
            {
                Some(i) => i,
                None => {
                    entry.indicators.push(Indicator {
                        code: item.indicator.clone(),
                        items: Vec::new(),
                    });
                    entry.indicators.len() - 1
                }
            };
            entry.indicators[indicator].items.push(index);
            places.push(Place {
                domain,
                indicator,
                position: entry.items.len(),
            });
            entry.items.push(index);
        }
        let scales = domains
            .iter()
            .map(|domain| {
                let irt = domain.items.iter().map(|&i| items[i].irt.clone()).collect();
                ItemBank::new(irt).map_err(|e| BankError::Scale {
                    domain: domain.code.clone(),
                    reason: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Bank {
            items,
            domains,
            places,
            scales,
        })
    }

    /// A bank from an instrument's layout — `(item id, domain, indicator)` in
    /// instrument order — and the `irt` model's calibrated parameters
    /// (PARAMS.csv). Every item needs parameters; parameters of items not in
    /// the layout are ignored.
    pub fn from_parameters<'a>(
        layout: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
        parameters: &ItemBank,
    ) -> Result<Self, BankError> {
        let mut items = Vec::new();
        let mut missing = Vec::new();
        for (id, domain, indicator) in layout {
            match parameters.get(id) {
                Some((_, irt)) => items.push(BankItem {
                    id: id.to_owned(),
                    domain: domain.to_owned(),
                    indicator: indicator.to_owned(),
                    irt: irt.clone(),
                }),
                None => missing.push(id.to_owned()),
            }
        }
        if !missing.is_empty() {
            return Err(BankError::MissingParameters(missing));
        }
        Bank::new(items)
    }

    pub fn items(&self) -> &[BankItem] {
        &self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn item(&self, index: usize) -> &BankItem {
        &self.items[index]
    }

    pub fn domains(&self) -> &[Domain] {
        &self.domains
    }

    /// The domain, indicator and position of the item at `index`.
    pub fn place(&self, index: usize) -> Place {
        self.places[index]
    }

    /// The bank index of the item with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|item| item.id == id)
    }

    /// The IRT parameters of one domain's items, in the domain's order: what
    /// the domain's EAP scorer is built from.
    pub fn domain_parameters(&self, domain: usize) -> &ItemBank {
        &self.scales[domain]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ikd_irt::Model;

    fn item(id: &str, domain: &str, indicator: &str) -> BankItem {
        BankItem {
            id: id.into(),
            domain: domain.into(),
            indicator: indicator.into(),
            irt: Item::new(id, Model::TwoPl, 1.0, vec![0.0]).unwrap(),
        }
    }

    #[test]
    fn groups_items_by_domain_and_indicator_in_bank_order() {
        let bank = Bank::new(vec![
            item("a1", "A", "x"),
            item("b1", "B", "y"),
            item("a2", "A", "z"),
            item("a3", "A", "x"),
        ])
        .unwrap();
        assert_eq!(bank.domains().len(), 2);
        let a = &bank.domains()[0];
        assert_eq!(a.items, vec![0, 2, 3]);
        assert_eq!(a.indicators[0].items, vec![0, 3]);
        assert_eq!(a.indicators[1].code, "z");
        assert_eq!(
            bank.place(3),
            Place {
                domain: 0,
                indicator: 0,
                position: 2
            }
        );
        assert_eq!(bank.place(1).domain, 1);
        assert_eq!(bank.domain_parameters(0).len(), 3);
        assert_eq!(bank.index_of("a2"), Some(2));
    }

    #[test]
    fn refuses_empty_banks_and_duplicate_ids() {
        assert_eq!(Bank::new(vec![]).unwrap_err(), BankError::Empty);
        let err = Bank::new(vec![item("a", "A", "x"), item("a", "B", "y")]).unwrap_err();
        assert_eq!(err, BankError::DuplicateItem("a".into()));
    }

    #[test]
    fn refuses_a_domain_that_is_not_one_irt_scale() {
        let rasch = |id: &str, a: f64| BankItem {
            irt: Item::new(id, Model::Rasch, a, vec![0.0]).unwrap(),
            ..item(id, "A", "x")
        };
        let err = Bank::new(vec![rasch("r1", 1.0), rasch("r2", 1.5)]).unwrap_err();
        assert!(
            matches!(err, BankError::Scale { ref domain, .. } if domain == "A"),
            "{err}"
        );
    }

    #[test]
    fn from_parameters_names_every_item_without_parameters() {
        let params =
            ItemBank::new(vec![Item::new("q1", Model::TwoPl, 1.2, vec![0.3]).unwrap()]).unwrap();
        let bank = Bank::from_parameters([("q1", "D", "i")], &params).unwrap();
        assert_eq!(bank.item(0).irt.a(), 1.2);
        let err = Bank::from_parameters(
            [("q1", "D", "i"), ("q2", "D", "i"), ("q3", "D", "i")],
            &params,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "no IRT parameters for item(s) q2, q3");
    }
}
