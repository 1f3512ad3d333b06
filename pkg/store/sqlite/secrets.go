package sqlite

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// KeySize is the length in bytes of the secrets key.
const KeySize = 32

// Secret columns of the tenants table; each is also part of its value's
// additional authenticated data.
const (
	colClientSecret = "bling_client_secret_enc"
	colCazcoKey     = "cazco_api_key_enc"
	colAccessToken  = "access_token_enc"
	colRefreshToken = "refresh_token_enc"
)

// keyCheckName is the meta row holding a constant encrypted with the store's key,
// so that a changed key is caught at open rather than at the first tenant.
const (
	keyCheckName  = "key_check"
	keyCheckValue = "cazbling secrets key check"
)

// LoadKey returns the secrets key for the store at dbPath. env is the value of
// CAZBLING_KEY: when not empty it must be base64 of exactly 32 bytes. Otherwise the
// key is read from the file dbPath+".key", which is created (mode 0600, folder 0700)
// with 32 random bytes if it does not exist.
func LoadKey(dbPath string, env string) ([]byte, error) {
	if strings.TrimSpace(env) != "" {
		key, err := decodeKey(env)
		if err != nil {
			return nil, fmt.Errorf("CAZBLING_KEY must be base64 of %d random bytes: %w", KeySize, err)
		}
		return key, nil
	}
	path := dbPath + ".key"
	text, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// A key is made only with a new store: beside an existing one, a new key could
		// not read the secrets already stored, and would hide the real problem.
		if info, serr := os.Stat(dbPath); serr == nil && info.Size() > 0 {
			return nil, fmt.Errorf("the store %s exists but its key file %s is missing; restore the key file from your backup, or set CAZBLING_KEY to the key the store was made with", dbPath, path)
		}
		if err := createKeyFile(path); err != nil {
			return nil, err
		}
		text, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := decodeKey(string(text))
	if err != nil {
		return nil, fmt.Errorf("key file %s does not hold base64 of %d bytes (%v); restore the original file or set CAZBLING_KEY", path, KeySize, err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("restrict key file %s to mode 0600: %w", path, err)
		}
	}
	return key, nil
}

// decodeKey decodes base64 (standard or URL alphabet, padded or not) of a key. Its
// errors never quote the input.
func decodeKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key, err := enc.DecodeString(text)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("it decodes to %d bytes", len(key))
		}
		return key, nil
	}
	return nil, errors.New("it is not valid base64")
}

// createKeyFile writes a new random key to path without ever exposing a partly
// written file: it writes a temporary file and links it into place, so that when
// two processes race the first link wins and both read the same key.
func createKeyFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create key folder for %s: %w", path, err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("create key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600) // CreateTemp uses 0600 already; be explicit
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			err = nil // another process won; use its key
		}
	}
	if err != nil {
		return fmt.Errorf("create key file %s: %w", path, err)
	}
	return nil
}

// secretBox seals and opens secret values with AES-256-GCM. Each value has a fresh
// random nonce and is bound to its tenant and column by the additional data, so a
// value copied into another row or column does not open.
type secretBox struct {
	aead cipher.AEAD
}

func newSecretBox(key []byte) (*secretBox, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	return &secretBox{aead: aead}, nil
}

func additionalData(owner, column string) []byte {
	return []byte(owner + "\x00" + column)
}

// seal returns nonce||ciphertext of plain, or nil (SQL NULL) for an empty value.
func (b *secretBox) seal(owner, column, plain string) []byte {
	if plain == "" {
		return nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand since Go 1.24)
	return b.aead.Seal(nonce, nonce, []byte(plain), additionalData(owner, column))
}

// open reverses seal. It reports false when the value does not open with this key
// (or was moved from another row or column).
func (b *secretBox) open(owner, column string, sealed []byte) (string, bool) {
	if len(sealed) == 0 {
		return "", true
	}
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return "", false
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], additionalData(owner, column))
	if err != nil {
		return "", false
	}
	return string(plain), true
}

// wrongKeyErr is the error for a tenant whose secrets do not open.
func (s *Store) wrongKeyErr(tenantID string) error {
	return fmt.Errorf("tenant %q: %w (CAZBLING_KEY or %s.key changed?); set the key used when the tenant was activated, or run activate again",
		tenantID, cazbling.ErrWrongKey, s.path)
}

// checkKey verifies the key against the store's key-check value, writing that value
// on first use. A store whose check fails but that holds no secrets yet (nothing to
// lose) is re-keyed instead of refused.
func (s *Store) checkKey(ctx context.Context) error {
	var sealed []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, keyCheckName).Scan(&sealed)
	if err == nil {
		if plain, ok := s.secrets.open("meta", keyCheckName, sealed); ok && plain == keyCheckValue {
			return nil
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read key check: %w", err)
	}
	if s.readOnly {
		// Nothing can be written: a store never checked has no secrets to read yet;
		// a failed check is a wrong key.
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return s.storeKeyErr()
	}
	wrongKey := false
	err = s.inTx(ctx, "write key check", func(tx *sql.Tx) error {
		var current []byte
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, keyCheckName).Scan(&current)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			if plain, ok := s.secrets.open("meta", keyCheckName, current); ok && plain == keyCheckValue {
				return nil // another process wrote it with the same key meanwhile
			}
			var holders int
			err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE
				bling_client_secret_enc IS NOT NULL OR cazco_api_key_enc IS NOT NULL OR
				access_token_enc IS NOT NULL OR refresh_token_enc IS NOT NULL`).Scan(&holders)
			if err != nil {
				return err
			}
			if holders > 0 {
				wrongKey = true
				return cazbling.ErrWrongKey // rolls back
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
			keyCheckName, s.secrets.seal("meta", keyCheckName, keyCheckValue))
		return err
	})
	if wrongKey {
		return s.storeKeyErr()
	}
	return err
}

// storeKeyErr is the error for a key that does not open the store's key check.
func (s *Store) storeKeyErr() error {
	return fmt.Errorf("the secrets key does not match store %s (was %s.key deleted or CAZBLING_KEY changed?): %w; set the key the store was created with",
		s.path, s.path, cazbling.ErrWrongKey)
}
