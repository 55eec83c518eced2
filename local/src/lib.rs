//! Bookshelf Auth on a laptop: Amazon's DynamoDB Local, the tables of `template.yaml`, and
//! every route behind a real HTTP listener, served by the same handlers the Lambdas run.

pub mod dynamodb_local;
pub mod server;
pub mod tables;
