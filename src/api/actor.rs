//! Who is calling, for the audit log: the role and a fingerprint of the bearer token (the first
//! 12 hex digits of its SHA-256), so a record says which token acted without storing a secret.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::auth::{Caller, Role};
use super::{ApiError, AppState};
use crate::store::tasks::Actor;

/// The authenticated caller with its audit identity.
#[derive(Debug, Clone)]
pub struct Who {
    pub role: Role,
    pub actor: Actor,
}

/// `admin`, `county:<adcode>`, `patrol:<township>`.
pub fn role_name(role: &Role) -> String {
    match role {
        Role::Admin => "admin".into(),
        Role::County(c) => format!("county:{c}"),
        Role::Patrol(t) => format!("patrol:{t}"),
    }
}

impl FromRequestParts<AppState> for Who {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(role) = Caller::from_request_parts(parts, state).await?;
        // Caller accepted the header, so it is `Bearer <token>` text.
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.get(7..).unwrap_or("").trim())
            .unwrap_or("");
        let sha = crate::service::sha256_hex(token.as_bytes());
        Ok(Who {
            actor: Actor {
                id: format!("token:{}", &sha[..12]),
                role: role_name(&role),
            },
            role,
        })
    }
}
