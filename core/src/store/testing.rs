//! Support for the tests and benchmarks that run against a PostgreSQL server
//! (`store-tests` feature): never part of a release build.

/// Makes the login role `name` (password `password`) a member of `groups`, however
/// many processes make the same login at the same moment: the loser of a race has its
/// CREATE ROLE or GRANT fail on a unique key, which is caught, and the row is there.
/// `name`, `password` and `groups` are the caller's own constants, written into the
/// SQL as they are.
pub fn ensure_login(
    client: &mut postgres::Client,
    name: &str,
    password: &str,
    groups: &[&str],
) -> Result<(), postgres::Error> {
    let mut sql = format!(
        "DO $$ BEGIN
           BEGIN
             CREATE ROLE {name} LOGIN PASSWORD '{password}';
           EXCEPTION WHEN unique_violation OR duplicate_object THEN NULL;
           END;"
    );
    if !groups.is_empty() {
        sql.push_str(&format!(
            "
           BEGIN
             GRANT {} TO {name};
           EXCEPTION WHEN unique_violation THEN NULL;
           END;",
            groups.join(", ")
        ));
    }
    sql.push_str("\n         END $$;");
    client.batch_execute(&sql)
}
