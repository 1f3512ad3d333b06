// Package secrets is the tenants' secrets at rest, the same in every store backend:
// AES-256-GCM with a fresh random nonce per value, each value bound to its tenant and
// column by the additional data, and the key from CAZBLING_KEY or (SQLite only) a key
// file beside the store.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length in bytes of the secrets key.
const KeySize = 32

// Secret columns of the tenants table; each is also part of its value's
// additional authenticated data, so the names are the same in every backend.
const (
	ColClientSecret = "bling_client_secret_enc"
	ColCazcoKey     = "cazco_api_key_enc"
	ColAccessToken  = "access_token_enc"
	ColRefreshToken = "refresh_token_enc"
)

// KeyCheckName is the meta row holding KeyCheckValue sealed with the store's key
// (owner "meta"), so that a changed key is caught at open rather than at the first
// tenant.
const (
	KeyCheckName  = "key_check"
	KeyCheckValue = "cazbling secrets key check"
)

// LoadKey returns the secrets key for the SQLite store at dbPath. env is the value of
// CAZBLING_KEY: when not empty it must be base64 of exactly 32 bytes. Otherwise the
// key is read from the file dbPath+".key", which is created (mode 0600, folder 0700)
// with 32 random bytes if it does not exist.
func LoadKey(dbPath string, env string) ([]byte, error) {
	if strings.TrimSpace(env) != "" {
		key, err := DecodeKey(env)
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
	key, err := DecodeKey(string(text))
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

// DecodeKey decodes base64 (standard or URL alphabet, padded or not) of a key. Its
// errors never quote the input.
func DecodeKey(text string) ([]byte, error) {
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

// Box seals and opens secret values with AES-256-GCM. Each value has a fresh
// random nonce and is bound to its tenant and column by the additional data, so a
// value copied into another row or column does not open.
type Box struct {
	aead cipher.AEAD
}

// NewBox makes the box of a KeySize-byte key.
func NewBox(key []byte) (*Box, error) {
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
	return &Box{aead: aead}, nil
}

func additionalData(owner, column string) []byte {
	return []byte(owner + "\x00" + column)
}

// Seal returns nonce||ciphertext of plain, bound to owner (a tenant id) and column,
// or nil (SQL NULL) for an empty value.
func (b *Box) Seal(owner, column, plain string) []byte {
	if plain == "" {
		return nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand since Go 1.24)
	return b.aead.Seal(nonce, nonce, []byte(plain), additionalData(owner, column))
}

// Open reverses Seal. It reports false when the value does not open with this key
// (or was moved from another row or column).
func (b *Box) Open(owner, column string, sealed []byte) (string, bool) {
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
