//! Docker Compose projects: discovery, YAML, interpolation, merging, `extends`,
//! `include` and profiles as `docker compose` does them (`load`), then lowering of the
//! merged document into the model (`lower`).

mod canonical;
mod discover;
mod dotenv;
mod edit;
mod envfile;
mod extends;
mod files;
mod include;
mod interpolate;
pub mod load;
pub mod lower;
mod merge;
mod name;
mod profiles;
mod project;
pub mod refs;
#[cfg(test)]
mod testing;

pub use load::{load, ComposeDocument, LoadOptions};
pub use lower::lower;
