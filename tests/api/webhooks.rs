//! Tests of this area (placeholder until implemented).
