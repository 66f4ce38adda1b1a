"""Users, roles, API tokens and the audit log, in one small SQLite file.

**Why SQLite (the standard library) and not the measurement store's DuckDB.** The
accounts must be writable by ``gridtwin users add`` while ``gridtwin serve`` runs: DuckDB
lets one process hold a database open for writing, SQLite (in WAL mode) lets several
processes write short transactions one after the other. The accounts must also exist when
the measurement store is a PostgreSQL server (then ``GRIDTWIN_ACCOUNTS_FILE`` names the
file). The data is small (users, tokens, one row per write in the audit log) and every
query is a key lookup or a short scan, which SQLite answers in microseconds. The file is
created readable by its owner only (it holds password hashes).

**Roles** (each includes the ones before it): see :class:`Role`.

**Passwords** are hashed with argon2id (argon2-cffi's defaults, the RFC 9106 "second
recommended" profile: t=3 passes, m=64 MiB, p=4 lanes, 16-byte salt, 32-byte hash). A
login with a hash made under other parameters re-hashes the password.

**API tokens** are 256-bit random strings (``gt_`` + 43 URL-safe characters) shown once.
Only their SHA-256 is stored: a token has full entropy, so a fast hash is enough (a slow
hash protects low-entropy passwords, not random keys) and the lookup is one index probe.
Each token has an id (for listing and revoking), a label, an expiry and a revocation time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import hashlib
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridtwin.errors import GridTwinError, InputError, NotFoundError, StoreError

__all__ = [
    "PASSWORD_MAX_CHARS",
    "PASSWORD_MIN_CHARS",
    "Accounts",
    "AuditEntry",
    "AuthenticationError",
    "ConflictError",
    "IssuedToken",
    "Role",
    "TokenInfo",
    "User",
]

PASSWORD_MIN_CHARS = 12
PASSWORD_MAX_CHARS = 1024
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
_TOKEN_PREFIX = "gt_"
_SCHEMA_VERSION = 1

# every change of users or tokens moves this on (in its own transaction), so that a
# process that remembers verified tokens knows when to forget them
_BUMP_ACCESS = (
    "INSERT INTO meta VALUES ('access_version', '1') ON CONFLICT (key) DO UPDATE "
    "SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    expires_utc TEXT NOT NULL,
    revoked_utc TEXT
);
CREATE INDEX IF NOT EXISTS tokens_user ON tokens (username);
CREATE TABLE IF NOT EXISTS audit (
    audit_id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_utc TEXT NOT NULL,
    username TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    object TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts_utc);
"""


class Role(enum.StrEnum):
    """A user's role; each role may do what the roles before it may.

    - ``viewer``: read measurements, points, rejects, exports, the twin's state and alarms.
    - ``operator``: also operate: send measurements (``POST /measurements``),
      acknowledge and shelve alarms.
    - ``analyst``: also change the model's configuration: measurement points, state
      estimation and alarm settings.
    - ``admin``: also manage users and their tokens and read the audit log.
    """

    viewer = "viewer"
    operator = "operator"
    analyst = "analyst"
    admin = "admin"

    @property
    def rank(self) -> int:
        """0 for viewer up to 3 for admin."""
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """True when this role may do what ``needed`` may."""
        return self.rank >= needed.rank


_RANKS = {r: i for i, r in enumerate(Role)}


class AuthenticationError(GridTwinError):
    """Missing, wrong, expired or revoked credentials (HTTP 401)."""


class ConflictError(InputError):
    """The request conflicts with what exists (a username taken, the last admin)."""


@dataclass(frozen=True)
class User:
    """A user account (never with its password hash)."""

    username: str
    role: Role
    disabled: bool
    created_utc: dt.datetime
    updated_utc: dt.datetime


@dataclass(frozen=True)
class TokenInfo:
    """An API token without its secret."""

    token_id: str
    username: str
    label: str
    created_utc: dt.datetime
    expires_utc: dt.datetime
    revoked_utc: dt.datetime | None

    def active(self, now: dt.datetime) -> bool:
        """Not revoked and not expired at ``now``."""
        return self.revoked_utc is None and now < self.expires_utc


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``token`` is the secret, shown once."""

    token: str
    info: TokenInfo


@dataclass(frozen=True)
class AuditEntry:
    """One write request: who, when, what and how it ended."""

    audit_id: int
    ts_utc: dt.datetime
    username: str | None
    method: str
    path: str
    object: str
    status_code: int
    outcome: str
    detail: str


def utc_now() -> dt.datetime:
    """The time now, tz-aware UTC."""
    return dt.datetime.now(dt.UTC)


def _text(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_username(username: str) -> str:
    """The username if valid; an InputError saying the rule otherwise."""
    if not isinstance(username, str) or not _USERNAME.match(username):
        msg = (
            f"username {username!r}: use 1-64 lower-case letters, digits and _ . -, "
            "starting with a letter or digit"
        )
        raise InputError(msg)
    return username


def check_password(password: str) -> str:
    """The password if long enough; an InputError otherwise (never echoing it)."""
    if not isinstance(password, str) or not (
        PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS
    ):
        msg = f"password: use {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"
        raise InputError(msg)
    return password


class Accounts:
    """The accounts database (see the module docstring). Thread-safe; open with
    :meth:`open`, close with :meth:`close` (or ``with``)."""

    def __init__(self, con: sqlite3.Connection, path: Path) -> None:
        from argon2 import PasswordHasher

        self._con = con
        self.path = path
        self._lock = threading.Lock()
        # verified tokens by hash, valid while no connection changed the file (SQLite's
        # data_version moves on another connection's commit; this one's writes clear it)
        self._verified: dict[str, tuple[User, TokenInfo]] = {}
        # tokens are verified on a connection of their own: in WAL mode a read never
        # waits for a write (an audit entry's commit), so the service's event loop never
        # does either; its data_version moves on every commit of any other connection,
        # and then the access version (moved on by every change of users or tokens, in
        # any process) says whether the verified tokens still hold
        self._verify_con = sqlite3.connect(
            path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._verify_lock = threading.Lock()
        self._data_version = -1
        self._access_version = ""
        self._hasher = PasswordHasher()
        #: The time now (tests move it on to expire tokens).
        self.clock: Callable[[], dt.datetime] = utc_now
        # verified against for unknown usernames, so both cases take the same time
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    @classmethod
    def open(cls, path: Path) -> Accounts:
        """Open (creating if missing, readable by the owner only) the accounts file."""
        path = Path(path).expanduser()
        if not path.parent.is_dir():
            msg = f"accounts file {path}: directory {path.parent} does not exist"
            raise InputError(msg)
        if not path.exists():
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            con = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA foreign_keys=ON")
            con.executescript(_SCHEMA)
            con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(_SCHEMA_VERSION)]
            )
        except sqlite3.Error as exc:
            msg = f"accounts file {path}: cannot open it as an SQLite database ({exc})"
            raise StoreError(msg) from exc
        return cls(con, path)

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock, self._verify_lock:
            self._verify_con.close()
            self._con.close()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _tx(self, *, access: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction (``BEGIN IMMEDIATE``: other processes wait, never conflict);
        ``access``: it may change users or tokens (the verified tokens are forgotten)."""
        with self._lock:
            con = self._con
            try:
                con.execute("BEGIN IMMEDIATE")
                if access:
                    con.execute(_BUMP_ACCESS)
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                msg = f"accounts file {self.path}: {exc}"
                raise StoreError(msg) from exc
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _read(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._con.execute(sql, params).fetchall())
            except sqlite3.Error as exc:
                msg = f"accounts file {self.path}: {exc}"
                raise StoreError(msg) from exc

    # ------------------------------------------------------------------ users

    def create_user(self, username: str, role: Role, password: str) -> User:
        """A new user; a ConflictError if the name is taken."""
        check_username(username)
        password_hash = self._hasher.hash(check_password(password))
        now = _text(utc_now())
        with self._tx() as con:
            if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
                msg = f"user {username!r} exists; choose another username"
                raise ConflictError(msg)
            con.execute(
                "INSERT INTO users VALUES (?, ?, ?, 0, ?, ?)",
                [username, Role(role).value, password_hash, now, now],
            )
        return self.get_user(username)

    def get_user(self, username: str) -> User:
        """The user; a NotFoundError if there is none of that name."""
        rows = self._read(
            "SELECT username, role, disabled, created_utc, updated_utc FROM users "
            "WHERE username = ?",
            [username],
        )
        if not rows:
            msg = f"no user {username!r}"
            raise NotFoundError(msg)
        return _user(rows[0])

    def list_users(self) -> list[User]:
        """Every user, by name."""
        rows = self._read(
            "SELECT username, role, disabled, created_utc, updated_utc FROM users ORDER BY username"
        )
        return [_user(r) for r in rows]

    def update_user(
        self, username: str, *, role: Role | None = None, disabled: bool | None = None
    ) -> User:
        """Change a user's role or disable/enable it; the last active admin stays."""
        with self._tx() as con:
            row = con.execute("SELECT role, disabled FROM users WHERE username = ?", [username])
            found = row.fetchone()
            if found is None:
                msg = f"no user {username!r}"
                raise NotFoundError(msg)
            new_role = Role(found[0]) if role is None else Role(role)
            new_disabled = bool(found[1]) if disabled is None else disabled
            if new_role != Role.admin or new_disabled:
                _keep_an_admin(con, username)
            con.execute(
                "UPDATE users SET role = ?, disabled = ?, updated_utc = ? WHERE username = ?",
                [new_role.value, int(new_disabled), _text(utc_now()), username],
            )
        return self.get_user(username)

    def set_password(self, username: str, password: str) -> None:
        """Set a new password and revoke the user's tokens (a reset ends every session)."""
        password_hash = self._hasher.hash(check_password(password))
        now = _text(utc_now())
        with self._tx() as con:
            cur = con.execute(
                "UPDATE users SET password_hash = ?, updated_utc = ? WHERE username = ?",
                [password_hash, now, username],
            )
            if cur.rowcount == 0:
                msg = f"no user {username!r}"
                raise NotFoundError(msg)
            con.execute(
                "UPDATE tokens SET revoked_utc = ? WHERE username = ? AND revoked_utc IS NULL",
                [now, username],
            )

    def delete_user(self, username: str) -> None:
        """Remove a user and its tokens (its audit entries keep its name)."""
        with self._tx() as con:
            _keep_an_admin(con, username)
            cur = con.execute("DELETE FROM users WHERE username = ?", [username])
            if cur.rowcount == 0:
                msg = f"no user {username!r}"
                raise NotFoundError(msg)

    def authenticate(self, username: str, password: str) -> User:
        """The user if the password is right and the account enabled; an
        AuthenticationError that does not say which of the two failed otherwise."""
        from argon2.exceptions import InvalidHashError, VerificationError

        rows = self._read(
            "SELECT password_hash, disabled FROM users WHERE username = ?", [username]
        )
        stored = rows[0][0] if rows else self._dummy_hash
        try:
            self._hasher.verify(stored, password)
            ok = bool(rows) and not rows[0][1]
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            msg = "wrong username or password, or the account is disabled"
            raise AuthenticationError(msg)
        if self._hasher.check_needs_rehash(stored):
            with self._tx() as con:
                con.execute(
                    "UPDATE users SET password_hash = ? WHERE username = ?",
                    [self._hasher.hash(password), username],
                )
        return self.get_user(username)

    def password_hash(self, username: str) -> str:
        """The stored hash (for tests of the hashing parameters; never sent anywhere)."""
        rows = self._read("SELECT password_hash FROM users WHERE username = ?", [username])
        if not rows:
            msg = f"no user {username!r}"
            raise NotFoundError(msg)
        return str(rows[0][0])

    # ------------------------------------------------------------------ tokens

    def issue_token(self, username: str, lifetime_s: float, label: str = "") -> IssuedToken:
        """A new token for an enabled user, valid for ``lifetime_s`` [s]."""
        user = self.get_user(username)
        if user.disabled:
            msg = f"user {username!r} is disabled; enable it before issuing a token"
            raise ConflictError(msg)
        if not lifetime_s > 0:
            msg = "lifetime_s must be a positive number of seconds"
            raise InputError(msg)
        token = _TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        info = TokenInfo(
            token_id=secrets.token_hex(8),
            username=username,
            label=label[:200],
            created_utc=now,
            expires_utc=now + dt.timedelta(seconds=lifetime_s),
            revoked_utc=None,
        )
        with self._tx() as con:
            con.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, NULL)",
                [
                    info.token_id,
                    username,
                    _sha256(token),
                    info.label,
                    _text(info.created_utc),
                    _text(info.expires_utc),
                ],
            )
        return IssuedToken(token, info)

    def verify_token(self, token: str) -> tuple[User, TokenInfo]:
        """The user and token behind a bearer token; an AuthenticationError saying why
        not (unknown, expired, revoked, account disabled)."""
        if not token.startswith(_TOKEN_PREFIX) or len(token) > 200:
            msg = "invalid token"
            raise AuthenticationError(msg)
        digest = _sha256(token)
        with self._verify_lock:
            try:
                known = self._verified_entry(digest)
            except sqlite3.Error as exc:
                msg = f"accounts file {self.path}: {exc}"
                raise StoreError(msg) from exc
        if known is None:
            msg = "invalid token"
            raise AuthenticationError(msg)
        user, info = known
        if info.revoked_utc is not None:
            msg = "the token was revoked; log in again"
            raise AuthenticationError(msg)
        if self.clock() >= info.expires_utc:
            msg = "the token has expired; log in again"
            raise AuthenticationError(msg)
        if user.disabled:
            msg = "the account is disabled"
            raise AuthenticationError(msg)
        return user, info

    def _verified_entry(self, digest: str) -> tuple[User, TokenInfo] | None:
        """The user and token of a token hash, remembered while no user or token changed
        (on the verifying connection, under its lock)."""
        con = self._verify_con
        version = con.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:  # some connection committed: access too?
            row = con.execute("SELECT value FROM meta WHERE key = 'access_version'").fetchone()
            access = "" if row is None else str(row[0])
            if access != self._access_version:
                self._verified.clear()
                self._access_version = access
            self._data_version = version
        known = self._verified.get(digest)
        if known is not None:
            return known
        row = con.execute(
            f"SELECT {_TOKEN_COLS}, u.role, u.disabled, u.created_utc, u.updated_utc "
            "FROM tokens t JOIN users u USING (username) WHERE t.token_sha256 = ?",
            [digest],
        ).fetchone()
        if row is None:
            return None
        info = _token(row[:6])
        entry = (_user((info.username, *row[6:])), info)
        # kept unless a change committed while it was read (then the next request reads)
        if con.execute("PRAGMA data_version").fetchone()[0] == version:
            if len(self._verified) >= 10_000:
                self._verified.clear()
            self._verified[digest] = entry
        return entry

    def list_tokens(self, username: str) -> list[TokenInfo]:
        """The user's tokens (revoked and expired ones too), newest first."""
        rows = self._read(
            f"SELECT {_TOKEN_COLS} FROM tokens t WHERE username = ? "
            "ORDER BY created_utc DESC, token_id",
            [username],
        )
        return [_token(r) for r in rows]

    def revoke_token(self, token_id: str, owner: str | None = None) -> TokenInfo:
        """Revoke a token (``owner``: only if it is theirs); NotFoundError otherwise."""
        with self._tx() as con:
            sql = f"SELECT {_TOKEN_COLS} FROM tokens t WHERE token_id = ?"
            params = [token_id]
            if owner is not None:
                sql += " AND username = ?"
                params.append(owner)
            row = con.execute(sql, params).fetchone()
            if row is None:
                msg = f"no token {token_id!r}" + ("" if owner is None else f" of {owner!r}")
                raise NotFoundError(msg)
            con.execute(
                "UPDATE tokens SET revoked_utc = coalesce(revoked_utc, ?) WHERE token_id = ?",
                [_text(utc_now()), token_id],
            )
        return self._token_by_id(token_id)

    def _token_by_id(self, token_id: str) -> TokenInfo:
        rows = self._read(f"SELECT {_TOKEN_COLS} FROM tokens t WHERE token_id = ?", [token_id])
        return _token(rows[0])

    # ------------------------------------------------------------------ audit

    def record_audit(
        self,
        *,
        username: str | None,
        method: str,
        path: str,
        obj: str,
        status_code: int,
        outcome: str,
        detail: str = "",
    ) -> None:
        """Append one entry to the audit log."""
        with self._tx(access=False) as con:
            con.execute(
                "INSERT INTO audit (ts_utc, username, method, path, object, status_code, "
                "outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [_text(utc_now()), username, method, path, obj, status_code, outcome, detail],
            )

    def audit(
        self, *, limit: int = 100, username: str | None = None, since: dt.datetime | None = None
    ) -> list[AuditEntry]:
        """Audit entries, newest first."""
        where, params = [], []
        if username is not None:
            where.append("username = ?")
            params.append(username)
        if since is not None:
            where.append("ts_utc >= ?")
            params.append(_text(since))
        cond = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._read(
            f"SELECT * FROM audit {cond} ORDER BY audit_id DESC LIMIT ?", [*params, int(limit)]
        )
        return [AuditEntry(r[0], _time(r[1]), *r[2:]) for r in rows]


_TOKEN_COLS = "t.token_id, t.username, t.label, t.created_utc, t.expires_utc, t.revoked_utc"


def _user(row: tuple[Any, ...]) -> User:
    return User(row[0], Role(row[1]), bool(row[2]), _time(row[3]), _time(row[4]))


def _token(row: tuple[Any, ...]) -> TokenInfo:
    revoked = None if row[5] is None else _time(row[5])
    return TokenInfo(row[0], row[1], row[2], _time(row[3]), _time(row[4]), revoked)


def _keep_an_admin(con: sqlite3.Connection, username: str) -> None:
    """A ConflictError if ``username`` is the last enabled admin."""
    others = con.execute(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND username != ?",
        [username],
    ).fetchone()
    this = con.execute(
        "SELECT 1 FROM users WHERE username = ? AND role = 'admin' AND disabled = 0", [username]
    ).fetchone()
    if this is not None and others is not None and others[0] == 0:
        msg = f"{username!r} is the last enabled admin; make another admin first"
        raise ConflictError(msg)
