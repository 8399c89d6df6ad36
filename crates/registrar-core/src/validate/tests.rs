//! Table tests of the validation rules.
