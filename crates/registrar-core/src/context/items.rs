//! `Items`: typed state that one custom step leaves for a later one.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;

/// A map keyed by type: each type has at most one value.
///
/// A step that wants to pass something on defines a type of its own for it, so two steps can
/// never clash on a string key:
///
/// ```
/// # use registrar_core::context::Items;
/// #[derive(Debug, PartialEq)]
/// struct Tenant(String);
///
/// let mut items = Items::default();
/// items.insert(Tenant("acme".to_owned()));
/// assert_eq!(items.get::<Tenant>(), Some(&Tenant("acme".to_owned())));
/// ```
#[derive(Default)]
pub struct Items(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl Items {
    /// Stores `value`, returning the value of the same type it replaced.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) -> Option<T> {
        self.0
            .insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|previous| previous.downcast().ok().map(|boxed| *boxed))
    }

    /// The value of type `T`, if a step stored one.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref())
    }

    /// The value of type `T`, mutably.
    pub fn get_mut<T: Any + Send + Sync>(&mut self) -> Option<&mut T> {
        self.0
            .get_mut(&TypeId::of::<T>())
            .and_then(|value| value.downcast_mut())
    }

    /// Takes the value of type `T` out of the map.
    pub fn remove<T: Any + Send + Sync>(&mut self) -> Option<T> {
        self.0
            .remove(&TypeId::of::<T>())
            .and_then(|value| value.downcast().ok().map(|boxed| *boxed))
    }

    /// How many values are stored.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no value is stored.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Items {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Items")
            .field("len", &self.0.len())
            .finish()
    }
}
