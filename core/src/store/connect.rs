//! Reaching the store: TLS with the server's certificate verified against the CA file
//! the configuration names (or the system's roots), and a plain connection only over a
//! unix socket. A plain-text connection to a network address is refused here, by the
//! client, whatever the server would accept.

use crate::error::{Error, Result};
use postgres::config::{Host, SslMode};
use postgres::Client;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;
use zeroize::Zeroizing;

fn invalid(message: impl Into<String>) -> Error {
    Error::ConfigInvalid {
        message: message.into(),
    }
}

pub(crate) fn unavailable(message: impl Into<String>) -> Error {
    Error::StoreUnavailable {
        message: message.into(),
    }
}

/// How to connect to one store: the parsed URL, the password and the TLS
/// configuration.
pub struct StoreConnector {
    config: postgres::Config,
    tls: Option<MakeRustlsConnect>,
    display: String,
}

impl std::fmt::Debug for StoreConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConnector")
            .field("store", &self.display)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

fn roots(ca_file: Option<&Path>) -> Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| invalid(format!("cannot read the CA file `{}`: {e}", path.display())))?
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| {
                    invalid(format!(
                        "the CA file `{}` does not parse: {e}",
                        path.display()
                    ))
                })?;
            if certs.is_empty() {
                return Err(invalid(format!(
                    "the CA file `{}` holds no certificate",
                    path.display()
                )));
            }
            for c in certs {
                roots.add(c).map_err(|e| {
                    invalid(format!(
                        "a certificate in `{}` is not usable: {e}",
                        path.display()
                    ))
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                // A system root that rustls cannot use is left out, as browsers do.
                let _ = roots.add(c);
            }
            if roots.is_empty() {
                return Err(invalid(
                    "no CA file is named and the system holds no root certificate: name one with `store.ca_file`",
                ));
            }
        }
    }
    Ok(roots)
}

impl StoreConnector {
    /// The connector of the store at `url` (which holds no password), verifying the
    /// server against `ca_file` (the system's roots when `None`).
    ///
    /// `config_invalid`: a URL that does not parse or holds a password, hosts that mix
    /// unix sockets with network addresses, `sslmode=disable` towards a network
    /// address (a plain-text connection is refused), a CA file that does not parse.
    pub fn new(
        url: &str,
        ca_file: Option<&Path>,
        password: Option<Zeroizing<String>>,
    ) -> Result<Self> {
        let mut config = postgres::Config::from_str(url)
            .map_err(|e| invalid(format!("the store URL does not parse: {e}")))?;
        if config.get_password().is_some() {
            return Err(invalid(
                "the store URL holds a password: name a file (`password_file`) or an environment variable (`password_env`) instead",
            ));
        }
        let hosts = config.get_hosts().to_vec();
        if hosts.is_empty() {
            return Err(invalid("the store URL names no host"));
        }
        let unix = hosts.iter().filter(|h| matches!(h, Host::Unix(_))).count();
        let display = hosts
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect::<Vec<_>>()
            .join(",");
        let tls = if unix == hosts.len() {
            // A unix socket: the operating system's permissions guard it.
            config.ssl_mode(SslMode::Disable);
            None
        } else if unix > 0 {
            return Err(invalid(
                "the store URL mixes unix sockets with network addresses: name one kind",
            ));
        } else {
            if config.get_ssl_mode() == SslMode::Disable {
                return Err(invalid(format!(
                    "a plain-text connection to `{display}` is refused: the platform store is reached over TLS with its certificate verified (only a unix socket may go without)"
                )));
            }
            config.ssl_mode(SslMode::Require);
            #[expect(
                deprecated,
                reason = "ring is the provider the crate already links; aws-lc is avoided"
            )]
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let tls = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| invalid(format!("TLS: {e}")))?
                .with_root_certificates(roots(ca_file)?)
                .with_no_client_auth();
            Some(MakeRustlsConnect::new(tls))
        };
        if let Some(p) = password {
            config.password(p.as_bytes());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        if config.get_tcp_user_timeout().is_none() {
            // A server gone silent (no reset) fails a write within this time, not the
            // system's minutes of retransmissions.
            config.tcp_user_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("govdata");
        }
        Ok(StoreConnector {
            config,
            tls,
            display,
        })
    }

    /// The connector of a node's `[store]` section.
    pub fn from_section(section: &crate::platform::StoreSection) -> Result<Self> {
        let password = section
            .password
            .as_ref()
            .map(|p| p.read_text())
            .transpose()?;
        StoreConnector::new(&section.url, section.ca_file.as_deref(), password)
    }

    /// Where the store is (its hosts), for messages.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Whether connections go over TLS.
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// A new connection, with a statement timeout of 30 seconds so that a server that
    /// stops answering is found out.
    pub fn connect(&self) -> Result<Client> {
        let mut client = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        }
        .map_err(|e| {
            unavailable(format!(
                "cannot connect to `{}`: {}",
                self.display,
                describe(&e)
            ))
        })?;
        client
            .batch_execute("SET statement_timeout = '30s'")
            .map_err(|e| unavailable(format!("`{}`: {}", self.display, describe(&e))))?;
        Ok(client)
    }
}

/// A database error with its source (the server's message and code, or the I/O or TLS
/// error behind it).
pub(crate) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
