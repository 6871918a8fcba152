//! `org.tianlu.sample.UserService` version `1.0.0`: an in-memory user store seeded with alice,
//! bob and carol.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tianlu_protocol::dubbo::ProviderError;
use tianlu_protocol::hessian2::Value;

use crate::model::{Address, User};

use super::{
    arg, arg_path, illegal_argument, int_arg, lock, long_arg, now_millis, string_arg, CallFailure,
};

/// The exception class thrown for an unknown id.
pub const USER_NOT_FOUND: &str = "org.tianlu.sample.UserNotFoundException";

/// `new UserNotFoundException(id)`: message `user <id> not found`, field `int code = 404`.
pub fn user_not_found(id: i64) -> ProviderError {
    ProviderError::new(USER_NOT_FOUND, format!("user {id} not found"))
        .with_field("code", Value::Int(404))
}

struct Store {
    users: BTreeMap<i64, User>,
    next_id: i64,
}

/// The user service of one provider instance.
pub struct UserService {
    instance: String,
    store: Mutex<Store>,
}

fn seed_user(id: i64, name: &str, age: i32, tags: &[&str], address: Option<Address>) -> User {
    User {
        id,
        name: Some(name.to_string()),
        email: Some(format!("{name}@example.com")),
        age,
        tags: Some(tags.iter().map(|t| Some(t.to_string())).collect()),
        address,
        // 2024-01-01T00:00:00Z plus `id` days.
        created_at: Some(1_704_067_200_000 + (id - 1) * 86_400_000),
    }
}

fn address(city: &str, street: &str, zip: &str) -> Address {
    Address {
        city: Some(city.to_string()),
        street: Some(street.to_string()),
        zip: Some(zip.to_string()),
    }
}

impl UserService {
    /// A store with users 1 alice, 2 bob and 3 carol (carol has no address); `whoAmI` answers
    /// `instance`.
    pub fn new(instance: impl Into<String>) -> Self {
        let users = [
            seed_user(
                1,
                "alice",
                30,
                &["admin", "dev"],
                Some(address("Hangzhou", "1 West Lake Road", "310000")),
            ),
            seed_user(
                2,
                "bob",
                25,
                &["dev"],
                Some(address("Shanghai", "2 Bund Street", "200000")),
            ),
            seed_user(3, "carol", 35, &[], None),
        ];
        UserService {
            instance: instance.into(),
            store: Mutex::new(Store {
                users: users.into_iter().map(|u| (u.id, u)).collect(),
                next_id: 4,
            }),
        }
    }

    /// Calls `method` (a method of [`crate::catalog::USER_SERVICE`]) with `args`.
    pub async fn invoke(&self, method: &str, args: &[Value]) -> Result<Value, CallFailure> {
        Ok(match method {
            "getUser" => self.get(long_arg(args, 0)?)?.to_value(),
            "createUser" => {
                let user = User::from_value(arg(args, 0), &arg_path(0))?;
                self.create(user)?.to_value()
            }
            "updateUser" => {
                let id = long_arg(args, 0)?;
                let user = User::from_value(arg(args, 1), &arg_path(1))?;
                self.update(id, user)?.to_value()
            }
            "listUsers" => {
                let name_like = string_arg(args, 0)?;
                let limit = int_arg(args, 1)?;
                let users = self.list(name_like.as_deref(), limit);
                Value::list(users.iter().map(User::to_value).collect())
            }
            "deleteUser" => Value::Bool(self.delete(long_arg(args, 0)?)),
            "whoAmI" => Value::string(self.instance.clone()),
            "slow" => {
                let ms = int_arg(args, 0)?;
                let ms =
                    u64::try_from(ms).map_err(|_| illegal_argument("timeout value is negative"))?;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Value::string(format!("done after {ms}ms"))
            }
            other => return Err(CallFailure::NoSuchMethod(other.to_string())),
        })
    }

    /// `User getUser(long id)`.
    pub fn get(&self, id: i64) -> Result<User, ProviderError> {
        let store = lock(&self.store);
        store
            .users
            .get(&id)
            .cloned()
            .ok_or_else(|| user_not_found(id))
    }

    /// `User createUser(User user)`: stores the user under the next id; `createdAt` defaults to
    /// now.
    pub fn create(&self, user: Option<User>) -> Result<User, ProviderError> {
        let mut user = user.ok_or_else(|| illegal_argument("user is required"))?;
        if user.name.as_deref().is_none_or(str::is_empty) {
            return Err(illegal_argument("name is required"));
        }
        user.created_at = user.created_at.or_else(|| Some(now_millis()));
        let mut store = lock(&self.store);
        user.id = store.next_id;
        store.next_id += 1;
        store.users.insert(user.id, user.clone());
        Ok(user)
    }

    /// `User updateUser(long id, User user)`: copies the non-null fields of `patch` (and `age`
    /// when it is not 0, Java's default for the primitive) onto the stored user.
    pub fn update(&self, id: i64, patch: Option<User>) -> Result<User, ProviderError> {
        let patch = patch.ok_or_else(|| illegal_argument("user is required"))?;
        let mut store = lock(&self.store);
        let user = store.users.get_mut(&id).ok_or_else(|| user_not_found(id))?;
        if patch.name.is_some() {
            user.name = patch.name;
        }
        if patch.email.is_some() {
            user.email = patch.email;
        }
        if patch.age != 0 {
            user.age = patch.age;
        }
        if patch.tags.is_some() {
            user.tags = patch.tags;
        }
        if patch.address.is_some() {
            user.address = patch.address;
        }
        if patch.created_at.is_some() {
            user.created_at = patch.created_at;
        }
        Ok(user.clone())
    }

    /// `List<User> listUsers(String nameLike, int limit)`: users whose name contains `name_like`
    /// (case-insensitive; `null` matches all), by id, at most `limit` of them (`limit <= 0`: no
    /// limit).
    pub fn list(&self, name_like: Option<&str>, limit: i32) -> Vec<User> {
        let needle = name_like.map(str::to_lowercase);
        let max = usize::try_from(limit)
            .ok()
            .filter(|&l| l > 0)
            .unwrap_or(usize::MAX);
        let store = lock(&self.store);
        store
            .users
            .values()
            .filter(|u| match (&needle, &u.name) {
                (None, _) => true,
                (Some(n), Some(name)) => name.to_lowercase().contains(n.as_str()),
                (Some(_), None) => false,
            })
            .take(max)
            .cloned()
            .collect()
    }

    /// `boolean deleteUser(long id)`: whether the user existed.
    pub fn delete(&self, id: i64) -> bool {
        lock(&self.store).users.remove(&id).is_some()
    }
}
