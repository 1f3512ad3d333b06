package blingsim

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Defaults of Options.
const (
	DefaultTokenTTL            = 6 * time.Hour
	DefaultRatePerSecond       = 3
	DefaultDailyQuota          = 120000
	DefaultTokenCallsPerMinute = 20
	RefreshTokenTTL            = 30 * 24 * time.Hour
	AuthorizationCodeTTL       = time.Minute
)

// Options configure a Sim. Zero values take the real service's figures.
type Options struct {
	Now           func() time.Time
	TokenTTL      time.Duration // access token lifetime; default 6 h
	RatePerSecond int           // per account; default 3; < 0 disables (see SetRatePerSecond)
	DailyQuota    int           // per account per São Paulo day; default 120000; < 0 disables
	// TokenCallsPerMinute caps POST /oauth/token per client IP in any 60 s; default 20;
	// < 0 disables (see SetTokenCallsPerMinute).
	TokenCallsPerMinute int
	// RedirectURI is where /oauth/authorize sends the browser; empty: this server's
	// /Api/v3/oauth/callback, which shows the code as text.
	RedirectURI string
	// StockListUnfiltered makes GET /produtos and GET /estoques/saldos without
	// filtroSaldoEstoque list every product whatever its balance. By default both apply
	// the spec's default filtroSaldoEstoque=1 (positive balances only), so a client must
	// say what it means.
	StockListUnfiltered bool
	// FuzzyLookups makes codigos[] and numerosLojas[] match by prefix instead of exactly,
	// to prove that a client re-checks the matches it gets.
	FuzzyLookups bool
	// OrderCommitted, if set, is called after a POST /pedidos/vendas is stored and
	// before the answer is written (outside the Sim's lock).
	OrderCommitted func(clientID string, id int64)
	Logger         *slog.Logger
}

// Sim is the stand-in Bling. All methods are safe for concurrent use.
type Sim struct {
	opts Options
	loc  *time.Location
	mux  *http.ServeMux

	mu         sync.Mutex
	consent    bool // SetRedirectURI: authorize shows a consent page first (and opts.RedirectURI is guarded by mu)
	accounts   map[string]*account
	order      []string // client ids, in the order added
	codes      map[string]*grant
	refresh    map[string]*grant
	access     map[string]*grant
	tokenCalls map[string][]time.Time // by client IP
	stats      Stats
	// ratePerSecond and tokenCallsPerMinute are the limits in force; 0 is none.
	ratePerSecond       int
	tokenCallsPerMinute int
}

type grant struct {
	clientID string
	expires  time.Time
	used     bool
}

type account struct {
	Account
	company    Company
	nextID     int64
	nextNumero int64
	products   map[int64]*Product // stored without Variacoes/Estoque/ImagemURL
	// variations indexes products by parent: parent id → ids of the products whose
	// IDProdutoPai it is. Only storeProduct and deleteProduct change it.
	variations map[int64][]int64
	// sortedIDs holds every product id in ascending order; nil when a product was
	// added or deleted since it was built.
	sortedIDs []int64
	stock     map[int64]map[int64]*stockEntry // product id → deposit id → entry
	deposits  []Deposit
	payments  []PaymentMethod
	contacts  map[int64]*Contact
	orders    map[int64]*Order
	nfes      map[int64]*NFe             // by id (nfe.go)
	objects   map[int64]*LogisticsObject // by id: an order's volumes (nfe.go)
	statuses  []SalesStatus              // the sales module's situações (nfe.go)
	trash     map[int64]trashed          // deleted products by id, for RestoreProduct (nfe.go)
	window    []time.Time                // admitted requests in the last second
	day       string
	dayCount  int
}

type stockEntry struct {
	physical decimal.Decimal
	reserved decimal.Decimal
}

// New returns a Sim with no accounts.
func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.RatePerSecond == 0 {
		opts.RatePerSecond = DefaultRatePerSecond
	}
	if opts.DailyQuota == 0 {
		opts.DailyQuota = DefaultDailyQuota
	}
	if opts.TokenCallsPerMinute == 0 {
		opts.TokenCallsPerMinute = DefaultTokenCallsPerMinute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		opts:                opts,
		loc:                 SaoPaulo(),
		accounts:            map[string]*account{},
		codes:               map[string]*grant{},
		refresh:             map[string]*grant{},
		access:              map[string]*grant{},
		tokenCalls:          map[string][]time.Time{},
		ratePerSecond:       max(opts.RatePerSecond, 0),
		tokenCallsPerMinute: max(opts.TokenCallsPerMinute, 0),
	}
	s.mux = s.routes()
	return s
}

// SaoPaulo returns the America/Sao_Paulo zone, or UTC−3 (its offset since 2019) when
// the system has no zone database.
func SaoPaulo() *time.Location {
	if loc, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return loc
	}
	return time.FixedZone("-03", -3*60*60)
}

// Patterns lists the routes the Sim serves, as http.ServeMux patterns.
func Patterns() []string {
	return []string{
		"GET /Api/v3/oauth/authorize",
		"GET /Api/v3/oauth/callback",
		"POST /Api/v3/oauth/token",
		"GET /Api/v3/produtos",
		"GET /Api/v3/produtos/{id}",
		"GET /Api/v3/estoques/saldos",
		"GET /Api/v3/depositos",
		"GET /Api/v3/formas-pagamentos",
		"GET /Api/v3/empresas/me/dados-basicos",
		"GET /Api/v3/contatos",
		"POST /Api/v3/contatos",
		"GET /Api/v3/contatos/{id}",
		"GET /Api/v3/pedidos/vendas",
		"POST /Api/v3/pedidos/vendas",
		"GET /Api/v3/pedidos/vendas/{id}",
		"PATCH /Api/v3/pedidos/vendas/{id}/situacoes/{idSituacao}",
		"GET /Api/v3/nfe/{id}",
		"GET /Api/v3/logisticas/objetos/{id}",
		"GET /Api/v3/situacoes/modulos",
		"GET /Api/v3/situacoes/modulos/{id}",
	}
}

func (s *Sim) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /Api/v3/oauth/authorize", s.handleAuthorize)
	m.HandleFunc("GET /Api/v3/oauth/callback", s.handleCallback)
	m.HandleFunc("POST /Api/v3/oauth/token", s.handleToken)
	m.Handle("GET /Api/v3/produtos", s.api(s.listProducts))
	m.Handle("GET /Api/v3/produtos/{id}", s.api(s.getProduct))
	m.Handle("GET /Api/v3/estoques/saldos", s.api(s.listBalances))
	m.Handle("GET /Api/v3/depositos", s.api(s.listDeposits))
	m.Handle("GET /Api/v3/formas-pagamentos", s.api(s.listPaymentMethods))
	m.Handle("GET /Api/v3/empresas/me/dados-basicos", s.api(s.getCompany))
	m.Handle("GET /Api/v3/contatos", s.api(s.listContacts))
	m.Handle("POST /Api/v3/contatos", s.api(s.createContact))
	m.Handle("GET /Api/v3/contatos/{id}", s.api(s.getContact))
	m.Handle("GET /Api/v3/pedidos/vendas", s.api(s.listOrders))
	m.Handle("POST /Api/v3/pedidos/vendas", s.api(s.createOrder))
	m.Handle("GET /Api/v3/pedidos/vendas/{id}", s.api(s.getOrder))
	m.Handle("PATCH /Api/v3/pedidos/vendas/{id}/situacoes/{idSituacao}", s.api(s.patchOrderStatus))
	m.Handle("GET /Api/v3/nfe/{id}", s.api(s.getNFe))
	m.Handle("GET /Api/v3/logisticas/objetos/{id}", s.api(s.getLogisticsObject))
	m.Handle("GET /Api/v3/situacoes/modulos", s.api(s.listModules))
	m.Handle("GET /Api/v3/situacoes/modulos/{id}", s.api(s.listModuleStatuses))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, apiError{Type: TypeNotFound,
			Message: "Recurso não encontrado", Description: "O recurso requisitado não foi encontrado."})
	})
	return m
}

// ServeHTTP serves Bling's API under /Api/v3.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()
	s.mux.ServeHTTP(w, r)
}

// AddAccount registers a company and its OAuth app, with Bling's default deposits and
// payment methods. Adding a client id twice replaces its credentials and company only.
func (s *Sim) AddAccount(acct Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if acct.Email == "" {
		acct.Email = "financeiro@" + slug(acct.CompanyName) + ".com.br"
	}
	if a, ok := s.accounts[acct.ClientID]; ok {
		a.Account = acct
		a.company = companyOf(acct)
		return
	}
	a := &account{
		Account:    acct,
		company:    companyOf(acct),
		nextID:     16_000_000_000 + int64(len(s.order))*1_000_000_000 + 1_234_567,
		nextNumero: 1,
		products:   map[int64]*Product{},
		variations: map[int64][]int64{},
		stock:      map[int64]map[int64]*stockEntry{},
		contacts:   map[int64]*Contact{},
		orders:     map[int64]*Order{},
		nfes:       map[int64]*NFe{},
		objects:    map[int64]*LogisticsObject{},
		trash:      map[int64]trashed{},
	}
	a.statuses = defaultStatuses(a)
	a.deposits = []Deposit{
		{ID: a.newID(), Descricao: "Geral", Situacao: 1, Padrao: true},
		{ID: a.newID(), Descricao: "Loja Física", Situacao: 1},
	}
	for _, pm := range []struct {
		desc   string
		tipo   int
		padrao int
	}{
		{"Dinheiro", 1, 1}, {"Cartão de Crédito", 3, 0}, {"Boleto", 15, 0}, {"PIX", 17, 0},
	} {
		a.payments = append(a.payments, PaymentMethod{ID: a.newID(), Descricao: pm.desc,
			TipoPagamento: pm.tipo, Situacao: 1, Padrao: pm.padrao, Finalidade: 3,
			Fixa: pm.tipo == 1})
	}
	s.accounts[acct.ClientID] = a
	s.order = append(s.order, acct.ClientID)
}

func companyOf(acct Account) Company {
	sum := sha256.Sum256([]byte("company:" + acct.ClientID))
	cnpj := acct.CNPJ
	if d, ok := digitsOnly(cnpj); ok {
		cnpj = formatDocument(d)
	}
	return Company{ID: hex.EncodeToString(sum[:16]), Nome: acct.CompanyName, CNPJ: cnpj,
		Email: acct.Email, DataContrato: "2024-03-01"}
}

func (a *account) newID() int64 {
	id := a.nextID
	a.nextID += 1 + id%7 // ids are not consecutive in Bling either
	return id
}

func (a *account) defaultDeposit() int64 {
	for _, d := range a.deposits {
		if d.Padrao {
			return d.ID
		}
	}
	return a.deposits[0].ID
}

// SetRatePerSecond changes the per-account limit (requests in any second) for the
// requests that arrive from now on; n <= 0 means none. The requests each account made
// in the last second while a limit was in force still count.
func (s *Sim) SetRatePerSecond(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ratePerSecond = max(n, 0)
}

// SetTokenCallsPerMinute changes the per-IP limit of POST /oauth/token (calls in any
// 60 s) for the calls that arrive from now on; n <= 0 means none.
func (s *Sim) SetTokenCallsPerMinute(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenCallsPerMinute = max(n, 0)
}

// Stats returns the behaviour counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats zeroes the behaviour counters.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{}
}

func (s *Sim) now() time.Time { return s.opts.Now() }

// reply is an answer built under the lock and written after it.
type reply struct {
	status    int
	body      []byte
	committed int64 // an order id for Options.OrderCommitted
}

func dataReply(status int, data any) reply {
	return reply{status: status, body: mustJSON(map[string]any{"data": data})}
}

func errReply(status int, e apiError) reply {
	return reply{status: status, body: mustJSON(map[string]any{"error": e})}
}

func paramReply(name, msg string) reply {
	return errReply(http.StatusBadRequest, apiError{
		Type: TypeValidation, Message: "Parâmetro inválido",
		Description: "O parâmetro " + name + " é inválido: " + msg,
		Fields:      []ErrorField{{Code: 1, Msg: msg, Element: name, Collection: []ErrorFieldItem{}}},
	})
}

func notFoundReply(what string) reply {
	return errReply(http.StatusNotFound, apiError{Type: TypeNotFound,
		Message: "Recurso não encontrado", Description: what + " não encontrado."})
}

// api wraps an endpoint with Bling's bearer auth and per-account limits; h runs under
// the Sim's lock.
func (s *Sim) api(h func(r *http.Request, a *account) reply) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		a, rep := s.admit(r)
		if a != nil {
			rep = h(r, a)
		}
		clientID := ""
		if a != nil {
			clientID = a.ClientID
		}
		s.mu.Unlock()
		if rep.committed != 0 && s.opts.OrderCommitted != nil {
			s.opts.OrderCommitted(clientID, rep.committed)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		_, _ = w.Write(rep.body)
	})
}

// admit authenticates r and applies the account's limits. It returns the account, or
// nil and the refusal.
func (s *Sim) admit(r *http.Request) (*account, reply) {
	if r.Header.Get("enable-jwt") != "1" {
		s.stats.MissingJWTHeader++
	}
	unauthorized := func(desc string) (*account, reply) {
		s.stats.Unauthorized++
		return nil, errReply(http.StatusUnauthorized, apiError{Type: TypeInvalidToken,
			Message: "invalid_token", Description: desc})
	}
	h := r.Header.Get("Authorization")
	scheme, token, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return unauthorized("Token de acesso não informado.")
	}
	now := s.now()
	g, ok := s.access[strings.TrimSpace(token)]
	if !ok {
		return unauthorized("Token de acesso inválido.")
	}
	if !now.Before(g.expires) {
		return unauthorized("Token de acesso expirado.")
	}
	a := s.accounts[g.clientID]
	if a == nil {
		return unauthorized("Token de acesso inválido.")
	}
	if s.opts.DailyQuota > 0 {
		day := now.In(s.loc).Format(time.DateOnly)
		if a.day != day {
			a.day, a.dayCount = day, 0
		}
		if a.dayCount >= s.opts.DailyQuota {
			s.stats.RateLimitedDay++
			return nil, errReply(http.StatusTooManyRequests, tooMany(s.opts.DailyQuota, "day"))
		}
	}
	if limit := s.ratePerSecond; limit > 0 {
		a.window = slices.DeleteFunc(a.window, func(t time.Time) bool { return now.Sub(t) >= time.Second })
		if len(a.window) >= limit {
			s.stats.RateLimitedSecond++
			return nil, errReply(http.StatusTooManyRequests, tooMany(limit, "second"))
		}
		a.window = append(a.window, now)
	}
	a.dayCount++
	return a, reply{}
}

// RevokeTokens kills every access and refresh token of clientID, as when a seller
// removes the app in Bling.
func (s *Sim) RevokeTokens(clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(clientID)
}

func (s *Sim) revokeLocked(clientID string) {
	for _, m := range []map[string]*grant{s.access, s.refresh} {
		for k, g := range m {
			if g.clientID == clientID {
				delete(m, k)
			}
		}
	}
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune("áàâã", r):
			b.WriteByte('a')
		case strings.ContainsRune("éê", r):
			b.WriteByte('e')
		case r == 'í':
			b.WriteByte('i')
		case strings.ContainsRune("óôõ", r):
			b.WriteByte('o')
		case r == 'ú':
			b.WriteByte('u')
		case r == 'ç':
			b.WriteByte('c')
		}
	}
	if b.Len() == 0 {
		return "empresa"
	}
	return b.String()
}
