//! `--cors`: which browser origins may call the mock. The layer that
//! applies it is built by the HTTP layer (`http::transport::cors_layer`).

use std::str::FromStr;

/// Which browser origins may call the mock (`--cors`, `ATOMS_MOCK_CORS`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CorsOrigins {
    /// `*` (the default): any origin, answered `Access-Control-Allow-Origin: *`.
    #[default]
    Any,
    /// `off`: no CORS headers, preflights answer like any other request.
    Off,
    /// A comma-separated list of origins (`https://app.example.com,http://localhost:3000`):
    /// only those are allowed, echoed back with `Vary: Origin`.
    List(Vec<String>),
}

impl FromStr for CorsOrigins {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "*" | "any" => Ok(Self::Any),
            "off" | "none" | "" => Ok(Self::Off),
            list => {
                let origins: Vec<String> =
                    list.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect();
                if let Some(bad) = origins
                    .iter()
                    .find(|o| !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/'))
                {
                    return Err(format!("'{bad}' is not an origin like https://app.example.com (or use * or off)"));
                }
                Ok(Self::List(origins))
            }
        }
    }
}

impl std::fmt::Display for CorsOrigins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Off => f.write_str("off"),
            Self::List(l) => f.write_str(&l.join(",")),
        }
    }
}
