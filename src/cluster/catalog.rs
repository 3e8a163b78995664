//! The built-in instance catalog: cloud instance types with capacity and list prices.
//!
//! Embedded from `data/instance-types.csv` at compile time so a fresh machine needs no data
//! files and a run cannot depend on what happens to be on disk. Provenance and licences of
//! the prices are in `data/SOURCE.md`.

/// One instance type.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceType {
    /// aws, gcp, azure or oci.
    pub provider: &'static str,
    /// The region the prices are for.
    pub region: &'static str,
    /// The provider's name, e.g. `m5.large`.
    pub name: &'static str,
    /// vCPUs.
    pub vcpu: u32,
    /// Memory in GiB.
    pub memory_gib: f64,
    /// Pods per node the provider's networking allows.
    pub max_pods: u32,
    /// On-demand list price.
    pub price_usd_per_hour: f64,
    /// Typical spot price, where the source has one.
    pub spot_price_usd_per_hour: Option<f64>,
}

const CATALOG_CSV: &str = include_str!("../../data/instance-types.csv");

/// The parsed catalog, in file order.
#[derive(Debug, Clone)]
pub struct Catalog {
    types: Vec<InstanceType>,
}

impl Catalog {
    /// The catalog shipped in the binary. The file is ours and checked by a unit test, so a
    /// malformed row is a build defect; it is skipped rather than aborting a user's run.
    pub fn builtin() -> Catalog {
        let types = CATALOG_CSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("provider,") && !l.is_empty())
            .filter_map(parse_row)
            .collect();
        Catalog { types }
    }

    /// Every type, in file order.
    pub fn all(&self) -> &[InstanceType] {
        &self.types
    }

    /// Types with this name (several providers may share a name only in theory; the
    /// optional provider narrows it).
    pub fn find(&self, name: &str, provider: Option<&str>) -> Vec<&InstanceType> {
        self.types
            .iter()
            .filter(|t| t.name == name && provider.is_none_or(|p| p == t.provider))
            .collect()
    }

    /// Names closest to a misspelt one, for "did you mean".
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.types.iter().map(|t| t.name)
    }
}

fn parse_row(line: &'static str) -> Option<InstanceType> {
    let f: Vec<&'static str> = line.split(',').collect();
    if f.len() != 8 {
        return None;
    }
    Some(InstanceType {
        provider: f[0],
        region: f[1],
        name: f[2],
        vcpu: f[3].parse().ok()?,
        memory_gib: f[4].parse().ok()?,
        max_pods: f[5].parse().ok()?,
        price_usd_per_hour: f[6].parse().ok()?,
        spot_price_usd_per_hour: if f[7].is_empty() {
            None
        } else {
            Some(f[7].parse().ok()?)
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_shipped_file_parses() {
        let data_rows = CATALOG_CSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("provider,") && !l.is_empty())
            .count();
        assert_eq!(Catalog::builtin().all().len(), data_rows);
        assert!(data_rows >= 50);
    }

    #[test]
    fn m5_large_has_the_list_price_and_eni_pod_limit() {
        let cat = Catalog::builtin();
        let m5 = cat.find("m5.large", None);
        assert_eq!(m5.len(), 1);
        assert_eq!(m5[0].vcpu, 2);
        assert_eq!(m5[0].memory_gib, 8.0);
        assert_eq!(m5[0].max_pods, 29);
        assert_eq!(m5[0].price_usd_per_hour, 0.096);
        assert_eq!(m5[0].spot_price_usd_per_hour, Some(0.04366));
        // GCP spot prices from the 2026-07-30 price file; none known for m6i.
        assert_eq!(
            cat.find("e2-standard-4", Some("gcp"))[0].spot_price_usd_per_hour,
            Some(0.080424)
        );
        assert!(
            cat.find("m6i.large", None)[0]
                .spot_price_usd_per_hour
                .is_none()
        );
        assert!(cat.find("m5.large", Some("gcp")).is_empty());
    }
}
