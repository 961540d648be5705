//! The offline tools: the OpenAPI document, the Postman collection, the recorder.

pub mod openapi;
pub mod postman;
pub mod record;
