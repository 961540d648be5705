//! The offline tools: they use the domain (and `record` the fixture loader
//! to check what it wrote), never the edge.

pub mod generate; // large, valid, deterministic data sets
pub mod openapi; // the OpenAPI 3.1 document of the partner API
pub mod openapi_control; // the OpenAPI 3.1 document of the control API
pub mod postman; // the Postman collection and environment
pub mod record; // crawl a live account into a fixtures directory
