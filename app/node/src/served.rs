//! The state machine as this node serves it.

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use paychain_app::{App, AppError};

use crate::config::AppConfig;

/// The app plus the node-local settings (app.toml) its servers consult:
/// CometBFT's RPC address for the tx and block services, CORS origins, the
/// disk reserve. The app itself only sees [`AppConfig::app_options`].
/// Cheap to clone, like [`App`]; derefs to it.
#[derive(Clone)]
pub struct ServedApp {
    pub app: App,
    config: Arc<AppConfig>,
}

impl ServedApp {
    pub fn new(app: App, config: AppConfig) -> Self {
        Self { app, config: Arc::new(config) }
    }

    /// Opens (or creates) the state store at `db_path` with `config`'s app options.
    pub fn open(db_path: &Path, config: AppConfig) -> Result<Self, AppError> {
        Ok(Self::new(App::open(db_path, config.app_options())?, config))
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }
}

impl Deref for ServedApp {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}
