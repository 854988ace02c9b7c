//! `GET /version` (and its alias `/metadata`) and `GET /user`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use jobscope_types::api::{Kas, Version};

use crate::auth::MaybeCaller;
use crate::entities::{Entities, UserView};
use crate::error::ApiResult;
use crate::urls::BaseUrl;

/// The GitLab version whose API jobscope implements; clients gate features on it.
pub const GITLAB_COMPAT_VERSION: &str = "18.6.0";

pub async fn version(caller: MaybeCaller) -> ApiResult<Response> {
    caller.require()?;
    let mut body = serde_json::to_value(Version {
        version: GITLAB_COMPAT_VERSION.to_owned(),
        revision: format!("jobscope-{}", env!("CARGO_PKG_VERSION")),
        kas: Kas::default(),
        enterprise: false,
    })
    .unwrap_or_default();
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "jobscope".into(),
            serde_json::json!({ "version": env!("CARGO_PKG_VERSION") }),
        );
    }
    Ok(Json(body).into_response())
}

pub async fn current_user(caller: MaybeCaller, base: BaseUrl) -> ApiResult<Response> {
    let caller = caller.require()?;
    let view = if caller.is_admin() {
        UserView::Admin
    } else {
        UserView::Private
    };
    Ok(Json(Entities::new(&base).user(&caller.user, view)).into_response())
}
