package bling

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// maxPage is Bling's largest page (limite).
const maxPage = 100

// blingDateTime is the layout of Bling's date-time filters (São Paulo time, no offset).
const blingDateTime = "2006-01-02 15:04:05"

// blingDate is the layout of Bling's dates.
const blingDate = "2006-01-02"

// maxQueryBytes bounds the encoded list parameters of one call, so that a batch of long
// SKUs does not make a URL that servers refuse.
const maxQueryBytes = 6000

// obj reads a JSON object into V and anything else (null, a string, an array) as the
// zero value: Bling's nested objects are sometimes absent or shaped otherwise.
type obj[T any] struct{ V T }

func (o *obj[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// list reads a JSON array into V and anything else as empty.
type list[T any] struct{ V []T }

func (l *list[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '[' {
		return nil
	}
	return json.Unmarshal(b, &l.V)
}

// productSummaryJSON is an item of GET /produtos (ProdutosDadosBaseDTO).
type productSummaryJSON struct {
	ID             jsonID     `json:"id"`
	IDProdutoPai   jsonID     `json:"idProdutoPai"`
	Nome           jsonText   `json:"nome"`
	Codigo         jsonText   `json:"codigo"`
	Preco          jsonAmount `json:"preco"`
	Tipo           jsonText   `json:"tipo"`
	Situacao       jsonText   `json:"situacao"`
	Formato        jsonText   `json:"formato"`
	DescricaoCurta jsonText   `json:"descricaoCurta"`
	ImagemURL      jsonText   `json:"imagemURL"`
	Estoque        obj[struct {
		SaldoVirtualTotal jsonAmount `json:"saldoVirtualTotal"`
	}] `json:"estoque"`
}

type imageJSON struct {
	Link jsonText `json:"link"`
}

// productJSON is GET /produtos/{id} (ProdutosDadosDTO), also the shape of a variation.
type productJSON struct {
	productSummaryJSON
	Gtin        jsonText   `json:"gtin"`
	Marca       jsonText   `json:"marca"`
	Unidade     jsonText   `json:"unidade"`
	PesoLiquido jsonAmount `json:"pesoLiquido"`
	PesoBruto   jsonAmount `json:"pesoBruto"`
	Dimensoes   obj[struct {
		Largura       jsonAmount `json:"largura"`
		Altura        jsonAmount `json:"altura"`
		Profundidade  jsonAmount `json:"profundidade"`
		UnidadeMedida jsonCode   `json:"unidadeMedida"`
	}] `json:"dimensoes"`
	Tributacao obj[struct {
		Ncm jsonText `json:"ncm"`
	}] `json:"tributacao"`
	Midia obj[struct {
		Imagens obj[struct {
			ImagensURL list[imageJSON] `json:"imagensURL"`
			Externas   list[imageJSON] `json:"externas"`
		}] `json:"imagens"`
	}] `json:"midia"`
	Variacoes list[productJSON] `json:"variacoes"`
	Variacao  obj[struct {
		Nome       jsonText `json:"nome"`
		ProdutoPai obj[struct {
			ID jsonID `json:"id"`
		}] `json:"produtoPai"`
	}] `json:"variacao"`
}

func (p productSummaryJSON) summary() cazbling.ERPProductSummary {
	return cazbling.ERPProductSummary{
		ID:           int64(p.ID),
		ParentID:     int64(p.IDProdutoPai),
		Name:         string(p.Nome),
		SKU:          string(p.Codigo),
		Price:        p.Preco.Dec(),
		Type:         string(p.Tipo),
		Status:       string(p.Situacao),
		Format:       string(p.Formato),
		ShortDesc:    string(p.DescricaoCurta),
		ImageURL:     string(p.ImagemURL),
		StockVirtual: p.Estoque.V.SaldoVirtualTotal.Dec(),
	}
}

// product maps a full product; variations (one level) are mapped the same way.
func (p productJSON) product(withVariations bool) cazbling.ERPProduct {
	d := p.Dimensoes.V
	out := cazbling.ERPProduct{
		ERPProductSummary: p.summary(),
		GTIN:              string(p.Gtin),
		Brand:             string(p.Marca),
		Unit:              string(p.Unidade),
		NetWeight:         p.PesoLiquido.Dec(),
		GrossWeight:       p.PesoBruto.Dec(),
		Width:             d.Largura.Dec(),
		Height:            d.Altura.Dec(),
		Depth:             d.Profundidade.Dec(),
		DimensionUnit:     int(d.UnidadeMedida),
		NCM:               string(p.Tributacao.V.Ncm),
		VariationName:     string(p.Variacao.V.Nome),
	}
	if parent := int64(p.Variacao.V.ProdutoPai.V.ID); parent != 0 {
		out.ParentID = parent
	}
	seen := map[string]bool{}
	imgs := p.Midia.V.Imagens.V
	for _, im := range append(append([]imageJSON(nil), imgs.ImagensURL.V...), imgs.Externas.V...) {
		link := strings.TrimSpace(string(im.Link))
		if link != "" && !seen[link] {
			seen[link] = true
			out.Images = append(out.Images, link)
		}
	}
	if out.ImageURL == "" && len(out.Images) > 0 {
		out.ImageURL = out.Images[0]
	}
	if withVariations {
		for _, v := range p.Variacoes.V {
			vp := v.product(false)
			if vp.ParentID == 0 {
				vp.ParentID = out.ID
			}
			out.Variations = append(out.Variations, vp)
		}
	}
	return out
}

// decodeProduct reads the answer of GET /produtos/{id}.
func decodeProduct(body []byte) (cazbling.ERPProduct, error) {
	var env struct {
		Data *productJSON `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return cazbling.ERPProduct{}, err
	}
	if env.Data == nil {
		return cazbling.ERPProduct{}, fmt.Errorf("no product in the answer")
	}
	p := env.Data.product(true)
	if p.ID == 0 {
		return cazbling.ERPProduct{}, fmt.Errorf("no product id in the answer")
	}
	return p, nil
}

// saoPauloTime formats t as Bling's date-time filters want it.
func saoPauloTime(t time.Time) string { return t.In(saoPaulo).Format(blingDateTime) }

// saoPauloDate formats t as a date in São Paulo.
func saoPauloDate(t time.Time) string { return t.In(saoPaulo).Format(blingDate) }

// checkWindow refuses a window Bling would refuse (longer than one year) or an inverted
// one. An open end counts as now.
func (c *Client) checkWindow(name string, from, to time.Time) error {
	if from.IsZero() {
		return nil
	}
	end := to
	if end.IsZero() {
		end = c.now()
	}
	if end.Before(from) {
		if to.IsZero() {
			return nil // a start in the future: nothing to check
		}
		return fmt.Errorf("bling: %s window ends (%s) before it starts (%s)", name, saoPauloTime(to), saoPauloTime(from))
	}
	if end.After(from.AddDate(1, 0, 0)) {
		return fmt.Errorf("bling: %s window %s .. %s: %w", name, saoPauloTime(from), saoPauloTime(end), ErrWindowTooLong)
	}
	return nil
}

// pageSize is q.Limit bounded to Bling's page.
func pageSize(limit int) int {
	if limit <= 0 || limit > maxPage {
		return maxPage
	}
	return limit
}

// ProductsPage returns one page (from 1) of GET /produtos and whether more may follow
// (false on a short or empty page). q.Stock must be set: it is sent as
// filtroSaldoEstoque, whose default would hide products at zero or negative stock
// (SYNC.md: never rely on a list's default filters). A date window over one year is
// refused with ErrWindowTooLong before anything is sent.
func (c *Client) ProductsPage(ctx context.Context, q cazbling.ProductQuery, page int) ([]cazbling.ERPProductSummary, bool, error) {
	if q.Stock.Param() == "" {
		return nil, false, fmt.Errorf("bling: a product listing must say which stock class it lists (filtroSaldoEstoque)")
	}
	if err := c.checkWindow("inclusion", q.CreatedFrom, q.CreatedTo); err != nil {
		return nil, false, err
	}
	if err := c.checkWindow("alteration", q.ChangedFrom, q.ChangedTo); err != nil {
		return nil, false, err
	}
	if page < 1 {
		page = 1
	}
	limit := pageSize(q.Limit)
	v := url.Values{}
	v.Set("pagina", strconv.Itoa(page))
	v.Set("limite", strconv.Itoa(limit))
	v.Set("filtroSaldoEstoque", q.Stock.Param())
	if q.Criterion != 0 {
		v.Set("criterio", strconv.Itoa(q.Criterion))
	}
	if q.Type != "" {
		v.Set("tipo", q.Type)
	}
	setTime := func(key string, t time.Time) {
		if !t.IsZero() {
			v.Set(key, saoPauloTime(t))
		}
	}
	setTime("dataInclusaoInicial", q.CreatedFrom)
	setTime("dataInclusaoFinal", q.CreatedTo)
	setTime("dataAlteracaoInicial", q.ChangedFrom)
	setTime("dataAlteracaoFinal", q.ChangedTo)
	for _, s := range q.SKUs {
		v.Add("codigos[]", s)
	}
	for _, id := range q.IDs {
		v.Add("idsProdutos[]", strconv.FormatInt(id, 10))
	}
	var env envelope[list[productSummaryJSON]]
	if _, err := c.do(ctx, get("/produtos", v), &env); err != nil {
		return nil, false, err
	}
	items := make([]cazbling.ERPProductSummary, 0, len(env.Data.V))
	for _, p := range env.Data.V {
		items = append(items, p.summary())
	}
	return items, len(env.Data.V) >= limit, nil
}

// Products walks the product list page by page until a short or empty page, under
// q.Stock or, when it is not set, under each stock class in turn (a product whose
// balance changes class during the walk may be listed twice, or missed). A failed page
// ends the walk with its error.
func (c *Client) Products(ctx context.Context, q cazbling.ProductQuery) iter.Seq2[cazbling.ERPProductSummary, error] {
	classes := []cazbling.StockClass{q.Stock}
	if q.Stock.Param() == "" {
		classes = cazbling.StockClasses()
	}
	return func(yield func(cazbling.ERPProductSummary, error) bool) {
		for _, class := range classes {
			q.Stock = class
			for page := 1; ; page++ {
				items, more, err := c.ProductsPage(ctx, q, page)
				if err != nil {
					yield(cazbling.ERPProductSummary{}, err)
					return
				}
				for _, it := range items {
					if !yield(it, nil) {
						return
					}
				}
				if !more {
					break
				}
			}
		}
	}
}

// Product returns the full product with its variations (GET /produtos/{id}).
func (c *Client) Product(ctx context.Context, id int64) (cazbling.ERPProduct, error) {
	route := "/produtos/{id}"
	cl := get(route, nil)
	cl.path = "/produtos/" + strconv.FormatInt(id, 10)
	resp, err := c.do(ctx, cl, nil)
	if err != nil {
		return cazbling.ERPProduct{}, err
	}
	p, err := decodeProduct(resp.Body)
	if err != nil {
		return cazbling.ERPProduct{}, malformed("GET "+route, resp, err)
	}
	return p, nil
}

// ProductsBySKU looks SKUs up with GET /produtos?codigos[]= in batches of 99 (all
// situations, criterio=5, limite=100) under each stock class (filtroSaldoEstoque 1, 0
// and 2: two products sharing a SKU may have balances of different signs), paging when
// a batch fills a page, and keeps only items whose codigo equals an asked SKU exactly.
// SKUs not found with tipo=T are asked again with tipo=V, in case the listing leaves
// variations out (BLING.md).
func (c *Client) ProductsBySKU(ctx context.Context, skus []string) ([]cazbling.ERPProductSummary, error) {
	l := skuLookUp{want: map[string]bool{}, seenID: map[int64]bool{}, found: map[string]bool{}}
	var asked []string
	for _, s := range skus {
		if s != "" && !l.want[s] {
			l.want[s] = true
			asked = append(asked, s)
		}
	}
	for _, tipo := range []string{"T", "V"} {
		var missing []string
		for _, s := range asked {
			if !l.found[s] {
				missing = append(missing, s)
			}
		}
		if len(missing) == 0 {
			break
		}
		// 99 SKUs a call with pages of 100: a page fills only when Bling answers more
		// products than SKUs asked (shared or loosely matched codes), and only then is
		// the next page asked.
		for _, batch := range batches(missing, maxPage-1, "codigos[]") {
			for _, class := range cazbling.StockClasses() {
				q := cazbling.ProductQuery{Criterion: 5, Type: tipo, SKUs: batch, Limit: maxPage, Stock: class}
				if err := l.pages(ctx, c, q); err != nil {
					return nil, err
				}
			}
		}
	}
	return l.out, nil
}

// skuLookUp gathers the exact matches of one ProductsBySKU call.
type skuLookUp struct {
	want   map[string]bool // SKUs asked
	seenID map[int64]bool  // products already in out
	found  map[string]bool // SKUs with at least one match
	out    []cazbling.ERPProductSummary
}

// pages pages through one look-up by SKU and keeps the exact matches not seen yet.
func (l *skuLookUp) pages(ctx context.Context, c *Client, q cazbling.ProductQuery) error {
	listed := map[int64]bool{}
	for page := 1; ; page++ {
		if page > maxPages {
			return fmt.Errorf("bling GET /produtos: more than %d pages for %d SKUs; giving up", maxPages, len(q.SKUs))
		}
		items, more, err := c.ProductsPage(ctx, q, page)
		if err != nil {
			return err
		}
		fresh := false
		for _, it := range items {
			if !listed[it.ID] {
				listed[it.ID], fresh = true, true
			}
		}
		if more && !fresh {
			return fmt.Errorf("bling GET /produtos: page %d repeats earlier products; the server ignores pagina", page)
		}
		for _, it := range items {
			if l.want[it.SKU] && !l.seenID[it.ID] {
				l.seenID[it.ID] = true
				l.found[it.SKU] = true
				l.out = append(l.out, it)
			}
		}
		if !more {
			return nil
		}
	}
}

// batches cuts items into batches of at most n that also keep the encoded query
// (key repeated per item) under maxQueryBytes.
func batches(items []string, n int, key string) [][]string {
	var out [][]string
	var cur []string
	size := 0
	for _, it := range items {
		l := len(url.QueryEscape(key)) + len(url.QueryEscape(it)) + 2
		if len(cur) > 0 && (len(cur) >= n || size+l > maxQueryBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, it)
		size += l
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
