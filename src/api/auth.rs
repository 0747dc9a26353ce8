//! Bearer tokens and roles. `admin` sees and does everything; `county:<adcode>` sees its county
//! (and may post sensor alerts); `patrol:<township code>` sees its township. Ingesting scenes
//! and feeds is for admins. No token → 401; a token whose role does not reach → 403.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{ApiError, AppState};
use crate::config::TokenConfig;
use crate::store::Scope;

/// A caller's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Admin,
    /// 6-digit county adcode.
    County(String),
    /// 9-digit township code.
    Patrol(String),
}

impl Role {
    /// Parses `admin`, `county:410526`, `patrol:410526100`.
    pub fn parse(s: &str) -> Result<Role, String> {
        let digits = |c: &str, n: usize, what: &str| {
            if c.len() == n && c.bytes().all(|b| b.is_ascii_digit()) {
                Ok(c.to_string())
            } else {
                Err(format!("`{s}`: {what} must be {n} digits"))
            }
        };
        match s.trim().split_once(':') {
            None if s.trim() == "admin" => Ok(Role::Admin),
            Some(("county", c)) => digits(c, 6, "a county adcode").map(Role::County),
            Some(("patrol", t)) => digits(t, 9, "a township code").map(Role::Patrol),
            _ => Err(format!(
                "`{s}`: roles are admin, county:<adcode>, patrol:<township code>"
            )),
        }
    }

    /// The rows this role may see.
    pub fn scope(&self) -> Scope {
        match self {
            Role::Admin => Scope::All,
            Role::County(c) => Scope::County(c.clone()),
            Role::Patrol(t) => Scope::Township(t.clone()),
        }
    }

    /// True when a unit code (county, township, village or parcel) lies in this role's scope.
    /// Chinese codes are hierarchical: a township code starts with its county's adcode.
    pub fn reaches(&self, unit: &str) -> bool {
        match self {
            Role::Admin => true,
            Role::County(c) => unit.starts_with(c.as_str()),
            Role::Patrol(t) => unit.starts_with(t.as_str()),
        }
    }

    /// The role as configured: `admin`, `county:<adcode>`, `patrol:<township code>`.
    pub fn name(&self) -> String {
        match self {
            Role::Admin => "admin".into(),
            Role::County(c) => format!("county:{c}"),
            Role::Patrol(t) => format!("patrol:{t}"),
        }
    }

    pub fn require_admin(&self, action: &str) -> Result<(), ApiError> {
        match self {
            Role::Admin => Ok(()),
            _ => Err(ApiError::Forbidden(format!(
                "{action} needs the admin role"
            ))),
        }
    }
}

/// Configured tokens.
#[derive(Debug, Default)]
pub struct Tokens {
    by_token: HashMap<String, Role>,
}

impl Tokens {
    pub fn from_config(tokens: &[TokenConfig]) -> Result<Tokens, String> {
        let mut by_token = HashMap::new();
        for t in tokens {
            by_token.insert(t.token.clone(), Role::parse(&t.role)?);
        }
        Ok(Tokens { by_token })
    }

    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }

    fn role(&self, token: &str) -> Option<&Role> {
        self.by_token.get(token)
    }

    /// The role of a token given other than in the header (`?token=` of an EventSource).
    pub fn role_of(&self, token: &str) -> Option<Role> {
        self.role(token.trim()).cloned()
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Role);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Err(ApiError::Unauthorized(
                "missing `Authorization: Bearer <token>` header".into(),
            ));
        };
        let value = value
            .to_str()
            .map_err(|_| ApiError::Unauthorized("Authorization header is not text".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| {
                ApiError::Unauthorized("Authorization must be `Bearer <token>`".into())
            })?;
        match state.tokens.role(token.trim()) {
            Some(role) => Ok(Caller(role.clone())),
            None => Err(ApiError::Unauthorized("unknown or revoked token".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_reach_their_units() {
        assert_eq!(Role::parse("admin"), Ok(Role::Admin));
        let c = Role::parse("county:410526").unwrap();
        assert!(c.reaches("410526") && c.reaches("410526100") && !c.reaches("410527"));
        let p = Role::parse("patrol:410526100").unwrap();
        assert!(p.reaches("410526100") && !p.reaches("410526") && !p.reaches("410526101"));
        assert!(Role::parse("county:41052").is_err());
        assert!(Role::parse("patrol:abc").is_err());
        assert!(Role::parse("mayor").is_err());
    }
}
