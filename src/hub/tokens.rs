//! Access tokens of one session, kept in DATA/SESSION-ID/tokens.toml (mode 0600).
//!
//! Tokens are made on the hub's first start and reused afterwards. A participant
//! the chair registers during the session gets its delegate token as the
//! registration is recorded (a participant added to the session file gets one on
//! the next start). They are compared in constant time and never written to a
//! journal or a log.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::domain::{Role, SessionDef};

pub const FILE_NAME: &str = "tokens.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub chair: String,
    pub rapporteur: String,
    pub observer: String,
    /// Participant id to token.
    #[serde(default)]
    pub delegates: BTreeMap<String, String>,
    /// Each person the session file names (chairs, officers, rapporteurs): their
    /// id to their own token. What they do is recorded under their name.
    #[serde(default)]
    pub people: BTreeMap<String, String>,
}

/// What a presented token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub role: Role,
    /// For a delegate: the participant it speaks for.
    pub participant: Option<String>,
    /// For a person's own token: the person's id in the session file.
    pub person: Option<String>,
}

/// A fresh random token: 128 bits as 32 hex digits.
pub fn new_token() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(format!("no randomness for tokens: {e}")))?;
    Ok(hex::encode(bytes))
}

impl Tokens {
    fn generate(def: &SessionDef) -> io::Result<Self> {
        let mut delegates = BTreeMap::new();
        for p in &def.participants {
            delegates.insert(p.id.clone(), new_token()?);
        }
        let mut people = BTreeMap::new();
        for (_, p) in def.people() {
            people.insert(p.id.clone(), new_token()?);
        }
        Ok(Self { chair: new_token()?, rapporteur: new_token()?, observer: new_token()?, delegates, people })
    }

    /// Load the session's tokens from `dir`, or create them; participants missing a
    /// delegate token get one. The file is (re)written with mode 0600.
    pub fn load_or_create(dir: &Path, def: &SessionDef) -> io::Result<Self> {
        let path = dir.join(FILE_NAME);
        let mut tokens = match fs::read_to_string(&path) {
            Ok(text) => toml::from_str::<Self>(&text).map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidData, format!("{}: {}", path.display(), e.message()))
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Self::generate(def)?,
            Err(e) => return Err(e),
        };
        let mut changed = !path.exists();
        for p in &def.participants {
            if !tokens.delegates.contains_key(&p.id) {
                tokens.delegates.insert(p.id.clone(), new_token()?);
                changed = true;
            }
        }
        for (_, p) in def.people() {
            if !tokens.people.contains_key(&p.id) {
                tokens.people.insert(p.id.clone(), new_token()?);
                changed = true;
            }
        }
        if changed {
            tokens.write(dir)?;
        } else {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))?;
        }
        Ok(tokens)
    }

    pub(crate) fn write(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        let text = toml::to_string(self).map_err(io::Error::other)?;
        let tmp = dir.join(format!("{FILE_NAME}.tmp"));
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        file.write_all(b"# Access tokens of this session. Keep this file secret.\n")?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, dir.join(FILE_NAME))?;
        fs::File::open(dir)?.sync_all()
    }

    /// What a presented token grants: a role, and for a delegate its participant,
    /// for a person's own token the person. Every token is compared, in constant
    /// time, whatever matches. A person's token grants the role the session file
    /// gives them (`def.person`); one the file no longer lists grants nothing.
    pub fn authenticate(&self, presented: &str, def: &SessionDef) -> Option<Credential> {
        let presented = presented.as_bytes();
        let eq = |token: &str| bool::from(token.as_bytes().ct_eq(presented));
        let mut found = None;
        let mut found_once = |credential: Credential| {
            if found.is_none() {
                found = Some(credential);
            }
        };
        for (role, token) in
            [(Role::Chair, &self.chair), (Role::Rapporteur, &self.rapporteur), (Role::Observer, &self.observer)]
        {
            if eq(token) {
                found_once(Credential { role, participant: None, person: None });
            }
        }
        for (participant, token) in &self.delegates {
            if eq(token) {
                found_once(Credential { role: Role::Delegate, participant: Some(participant.clone()), person: None });
            }
        }
        for (person, token) in &self.people {
            if eq(token)
                && let Some((role, _)) = def.person(person)
            {
                found_once(Credential { role, participant: None, person: Some(person.clone()) });
            }
        }
        found
    }
}

/// A session's tokens as the hub holds them: read by every handshake, added to by
/// the session's task when the chair registers a participant.
#[derive(Debug)]
pub struct TokenStore {
    dir: PathBuf,
    tokens: RwLock<Tokens>,
}

impl TokenStore {
    pub fn new(dir: &Path, tokens: Tokens) -> Self {
        Self { dir: dir.to_path_buf(), tokens: RwLock::new(tokens) }
    }

    /// The tokens as tokens.toml holds them (to share them with other hubs).
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.get()).unwrap_or_default()
    }

    /// A copy of the tokens as they are now.
    pub fn get(&self) -> Tokens {
        self.tokens.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn authenticate(&self, presented: &str, def: &SessionDef) -> Option<Credential> {
        self.tokens.read().unwrap_or_else(|e| e.into_inner()).authenticate(presented, def)
    }

    /// Take `tokens` (another hub's, as etcd holds them) in place of these, and
    /// write the file (fsync'd).
    pub fn replace(&self, tokens: Tokens) -> io::Result<()> {
        tokens.write(&self.dir)?;
        *self.tokens.write().unwrap_or_else(|e| e.into_inner()) = tokens;
        Ok(())
    }

    /// Give `participant` a delegate token, unless it has one, and write the file
    /// (fsync'd) before the token is accepted. Handshakes are not held up by the
    /// write: the lock is taken only to copy the tokens and to swap in the new
    /// ones. Only the session's task adds tokens, one registration at a time.
    pub fn add_delegate(&self, participant: &str) -> io::Result<()> {
        let mut updated = {
            let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
            if tokens.delegates.contains_key(participant) {
                return Ok(());
            }
            tokens.clone()
        };
        updated.delegates.insert(participant.to_string(), new_token()?);
        updated.write(&self.dir)?;
        *self.tokens.write().unwrap_or_else(|e| e.into_inner()) = updated;
        Ok(())
    }
}

/// The forum's tokens file, in the hub's data directory beside the sessions' folders.
pub const FORUM_FILE_NAME: &str = "forum-tokens.toml";

/// The forum's own credentials, valid on every session the hub serves and on
/// `/v1/forum` (the secretariat's console): the secretariat chairs any session,
/// the forum's observer follows any session read-only. Kept in
/// `DATA/forum-tokens.toml` (mode 0600), made on the hub's first start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForumTokens {
    pub secretariat: String,
    pub observer: String,
}

impl ForumTokens {
    /// Load the forum's tokens from the data directory, or make them (written
    /// with mode 0600 and fsync'd, the directory too, before the hub serves anyone).
    pub fn load_or_create(data: &Path) -> io::Result<Self> {
        let path = data.join(FORUM_FILE_NAME);
        match fs::read_to_string(&path) {
            Ok(text) => {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600))?;
                toml::from_str::<Self>(&text).map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("{}: {}", path.display(), e.message()))
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let tokens = Self { secretariat: new_token()?, observer: new_token()? };
                tokens.save(data)?;
                Ok(tokens)
            }
            Err(e) => Err(e),
        }
    }

    /// Write the tokens to the data directory: mode 0600, to a temporary file,
    /// fsync'd and renamed, the directory fsync'd.
    pub fn save(&self, data: &Path) -> io::Result<()> {
        let path = data.join(FORUM_FILE_NAME);
        fs::create_dir_all(data)?;
        let text = toml::to_string(self).map_err(io::Error::other)?;
        let tmp = data.join(format!("{FORUM_FILE_NAME}.tmp"));
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        file.write_all(
            b"# The forum's tokens: the secretariat's opens the forum's console and chairs any session of\n\
              # this hub; the observer's follows any session read-only. Keep this file secret.\n",
        )?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, &path)?;
        fs::File::open(data)?.sync_all()
    }

    /// The credential a presented token gives across the forum, if it is one of
    /// its tokens (both compared in constant time).
    pub fn authenticate(&self, presented: &str) -> Option<Role> {
        let presented = presented.as_bytes();
        let secretariat = bool::from(self.secretariat.as_bytes().ct_eq(presented));
        let observer = bool::from(self.observer.as_bytes().ct_eq(presented));
        match (secretariat, observer) {
            (true, _) => Some(Role::Chair),
            (_, true) => Some(Role::Observer),
            _ => None,
        }
    }
}

/// The actor a forum credential acts as in a session: the secretariat as a
/// person at the chair (recorded as `secretariat`), the forum's observer as an observer.
pub fn forum_actor(role: Role) -> crate::domain::Actor {
    match role {
        Role::Chair => crate::domain::Actor {
            role,
            name: crate::domain::SECRETARIAT.to_string(),
            participant: None,
            person: Some(crate::domain::SECRETARIAT.to_string()),
        },
        role => crate::domain::Actor::observer(&format!("forum {}", role.label())),
    }
}
