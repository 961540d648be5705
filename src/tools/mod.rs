//! The offline tools, built from the resource tables.

pub mod openapi; // the OpenAPI 3.1 document
pub mod postman; // the Postman collection and environment
pub mod record; // crawl a live account into a fixtures directory
