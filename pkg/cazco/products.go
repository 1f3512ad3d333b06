package cazco

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
)

// maxStockBatch is the most items PUT /stock takes.
const maxStockBatch = 100

// wireProduct is a product as CaZco sends it.
type wireProduct struct {
	ID          text `json:"id"`
	SKU         text `json:"sku"`
	ParentSKU   text `json:"parent_sku"`
	Name        text `json:"name"`
	Description text `json:"description"`
	Status      text `json:"status"`
	Price       text `json:"price"`
	Stock       struct {
		Quantity optInt `json:"quantity"`
	} `json:"stock"`
	GTIN       text `json:"gtin"`
	Brand      text `json:"brand"`
	NCM        text `json:"ncm"`
	WeightKg   text `json:"weight_kg"`
	Dimensions *struct {
		Width  text `json:"width"`
		Height text `json:"height"`
		Length text `json:"length"`
	} `json:"dimensions_cm"`
	Images     []text          `json:"images"`
	Attributes map[string]text `json:"attributes"`
}

// listEnvelope is the envelope of every list; items are decoded one by one so that
// one bad item can be named instead of failing the page blindly.
type listEnvelope struct {
	Data *[]json.RawMessage `json:"data"`
	Meta struct {
		Total *int `json:"total"`
	} `json:"meta"`
	Links struct {
		Next text `json:"next"`
	} `json:"links"`
}

type itemEnvelope struct {
	Data json.RawMessage `json:"data"`
}

// decodeProduct reads one product object.
func decodeProduct(raw []byte) (cazbling.MarketProduct, error) {
	var w wireProduct
	if err := json.Unmarshal(raw, &w); err != nil {
		return cazbling.MarketProduct{}, describeItem("product", rawID(raw), err)
	}
	p, err := w.product()
	if err != nil {
		return cazbling.MarketProduct{}, describeItem("product", string(w.ID), err)
	}
	return p, nil
}

func (w wireProduct) product() (cazbling.MarketProduct, error) {
	if w.ID == "" {
		return cazbling.MarketProduct{}, errors.New("id is missing")
	}
	if w.SKU == "" {
		return cazbling.MarketProduct{}, errors.New("sku is missing")
	}
	price, err := parseMoney("price", w.Price, true)
	if err != nil {
		return cazbling.MarketProduct{}, err
	}
	p := cazbling.MarketProduct{
		ID:          string(w.ID),
		SKU:         string(w.SKU),
		ParentSKU:   string(w.ParentSKU),
		Name:        string(w.Name),
		Description: string(w.Description),
		Status:      string(w.Status),
		Price:       price,
		GTIN:        string(w.GTIN),
		Brand:       string(w.Brand),
		NCM:         string(w.NCM),
		WeightKg:    string(w.WeightKg),
		Stock:       w.Stock.Quantity.n,
	}
	if d := w.Dimensions; d != nil {
		p.Dimensions = &cazbling.Dimensions{Width: string(d.Width), Height: string(d.Height), Length: string(d.Length)}
	}
	for _, img := range w.Images {
		if img != "" {
			p.Images = append(p.Images, string(img))
		}
	}
	if len(w.Attributes) > 0 {
		p.Attributes = make(map[string]string, len(w.Attributes))
		for k, v := range w.Attributes {
			p.Attributes[k] = string(v)
		}
	}
	return p, nil
}

// describeItem names the item an error is about, by id when one could be read.
func describeItem(what, id string, err error) error {
	if id == "" {
		return fmt.Errorf("cannot read a CaZco %s without a readable id: %w", what, err)
	}
	return fmt.Errorf("cannot read CaZco %s %s: %w", what, quoteShort(id), err)
}

// productWrite is the body of POST /products and PUT /products/{id}. It carries only
// the fields cazbling owns; a nil pointer is sent as null, which clears a stale value.
// Stock is never part of it.
type productWrite struct {
	SKU         string            `json:"sku,omitempty"` // create only
	Name        string            `json:"name,omitempty"`
	Description *string           `json:"description"`
	Status      string            `json:"status,omitempty"`
	Price       string            `json:"price"`
	ParentSKU   *string           `json:"parent_sku"`
	GTIN        *string           `json:"gtin"`
	Brand       *string           `json:"brand"`
	NCM         *string           `json:"ncm"`
	WeightKg    *string           `json:"weight_kg"`
	Dimensions  *wireDimensions   `json:"dimensions_cm"`
	Images      []string          `json:"images"`
	Attributes  map[string]string `json:"attributes,omitempty"` // create only
}

type wireDimensions struct {
	Width  string `json:"width"`
	Height string `json:"height"`
	Length string `json:"length"`
}

func newProductWrite(p cazbling.MarketProduct) productWrite {
	w := productWrite{
		Name:        p.Name,
		Description: orNull(p.Description),
		Status:      p.Status,
		Price:       p.Price.StringFixed(2),
		ParentSKU:   orNull(p.ParentSKU),
		GTIN:        orNull(p.GTIN),
		Brand:       orNull(p.Brand),
		NCM:         orNull(p.NCM),
		WeightKg:    orNull(p.WeightKg),
		Images:      []string{}, // an empty list clears stale images
	}
	if d := p.Dimensions; d != nil && (d.Width != "" || d.Height != "" || d.Length != "") {
		w.Dimensions = &wireDimensions{Width: d.Width, Height: d.Height, Length: d.Length}
	}
	for _, img := range p.Images {
		if img != "" {
			w.Images = append(w.Images, img)
		}
	}
	return w
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Info counts the store's products with the cheapest call there is
// (GET /products?per_page=1), which also proves the key works.
func (c *Client) Info(ctx context.Context) (cazbling.MarketInfo, error) {
	resp, err := c.do(ctx, request{
		op: opListProducts, method: http.MethodGet,
		url: c.endpoint("/products", url.Values{"per_page": {"1"}}),
	})
	if err != nil {
		return cazbling.MarketInfo{}, err
	}
	var env listEnvelope
	if err := c.decode(opListProducts, resp, &env); err != nil {
		return cazbling.MarketInfo{}, err
	}
	switch {
	case env.Meta.Total != nil:
		return cazbling.MarketInfo{Products: *env.Meta.Total}, nil
	case resp.Header.Get("X-Total-Count") != "":
		if n, err := strconv.Atoi(resp.Header.Get("X-Total-Count")); err == nil {
			return cazbling.MarketInfo{Products: n}, nil
		}
	}
	return cazbling.MarketInfo{}, c.malformed(opListProducts, resp.Status, "the product list carries no meta.total")
}

// ProductBySKU finds the product whose SKU is exactly sku. No match is found=false; more
// than one, or a match whose SKU differs, is an *APIError of Kind KindData, since the
// caller must then neither create nor pick one.
func (c *Client) ProductBySKU(ctx context.Context, sku string) (cazbling.MarketProduct, bool, error) {
	if sku == "" {
		return cazbling.MarketProduct{}, false, invalid(opListProducts, "cannot look up an empty SKU")
	}
	resp, err := c.do(ctx, request{
		op: opListProducts, method: http.MethodGet,
		url: c.endpoint("/products", url.Values{"sku": {sku}}),
	})
	if err != nil {
		return cazbling.MarketProduct{}, false, err
	}
	var env listEnvelope
	if err := c.decode(opListProducts, resp, &env); err != nil {
		return cazbling.MarketProduct{}, false, err
	}
	if env.Data == nil {
		return cazbling.MarketProduct{}, false, c.malformed(opListProducts, resp.Status, "the product list has no data array")
	}
	items := *env.Data
	count := len(items)
	if env.Meta.Total != nil && *env.Meta.Total > count {
		count = *env.Meta.Total
	}
	if count > 1 {
		return cazbling.MarketProduct{}, false, &cazbling.APIError{
			API: apiName, Op: opListProducts, Status: resp.Status, Kind: cazbling.KindData,
			Message: c.clean(fmt.Sprintf("CaZco returned %d products for SKU %s; fix the duplicate in CaZco", count, sku), 500),
		}
	}
	if len(items) == 0 {
		if count > 0 {
			// An empty page that claims a match: creating now could duplicate the SKU.
			return cazbling.MarketProduct{}, false, &cazbling.APIError{
				API: apiName, Op: opListProducts, Status: resp.Status, Kind: cazbling.KindData,
				Message: c.clean(fmt.Sprintf("CaZco counts %d product for SKU %s but returned none", count, sku), 500),
			}
		}
		return cazbling.MarketProduct{}, false, nil
	}
	p, err := decodeProduct(items[0])
	if err != nil {
		return cazbling.MarketProduct{}, false, c.malformed(opListProducts, resp.Status, err.Error())
	}
	if p.SKU != sku {
		return cazbling.MarketProduct{}, false, &cazbling.APIError{
			API: apiName, Op: opListProducts, Status: resp.Status, Kind: cazbling.KindData,
			Message: c.clean(fmt.Sprintf("CaZco answered the look-up of SKU %q with product %s whose SKU is %q; SKUs must match exactly", sku, p.ID, p.SKU), 500),
		}
	}
	return p, true, nil
}

// Product returns product id; a stale id is an *APIError of Kind KindNotFound.
func (c *Client) Product(ctx context.Context, id string) (cazbling.MarketProduct, error) {
	if id == "" {
		return cazbling.MarketProduct{}, invalid(opGetProduct, "empty product id")
	}
	p, _, err := getItem(ctx, c, opGetProduct, "/products/"+url.PathEscape(id), decodeProduct)
	if err != nil {
		return cazbling.MarketProduct{}, err
	}
	return p, nil
}

// getItem reads one item, GET path answered {"data": {…}}, and decodes it with
// decodeItem. When the item itself is malformed, the error comes with its raw JSON,
// for the caller to name it by what it can still read.
func getItem[T any](ctx context.Context, c *Client, op, path string, decodeItem func([]byte) (T, error)) (T, json.RawMessage, error) {
	var zero T
	resp, err := c.do(ctx, request{op: op, method: http.MethodGet, url: c.endpoint(path, nil)})
	if err != nil {
		return zero, nil, err
	}
	var env itemEnvelope
	if err := c.decode(op, resp, &env); err != nil {
		return zero, nil, err
	}
	item, err := decodeItem(env.Data)
	if err != nil {
		return zero, env.Data, c.malformed(op, resp.Status, err.Error())
	}
	return item, nil, nil
}

// Products walks every product of the store: GET /products?per_page=100, then each
// links.next verbatim until it is null (never stopping on a short or full page, nor on
// meta or headers). A page that cannot be fetched or read, a links.next that leaves the
// API or leads back to a page already read, or a cancelled ctx ends the walk with its
// error. So does a product that cannot be decoded: since callers take "not in the walk"
// to mean "not on CaZco", it is not skipped but yielded as an *APIError of Kind
// KindMalformed naming it (with MarketProduct.ID and SKU set when they can be read),
// and nothing more is yielded after it.
func (c *Client) Products(ctx context.Context) iter.Seq2[cazbling.MarketProduct, error] {
	return func(yield func(cazbling.MarketProduct, error) bool) {
		first := c.endpoint("/products", url.Values{"per_page": {strconv.Itoa(maxPerPage)}})
		for page, err := range c.walkPages(ctx, opListProducts, "product", first) {
			if err != nil {
				yield(cazbling.MarketProduct{}, err)
				return
			}
			for _, raw := range page.items {
				p, err := decodeProduct(raw)
				if err != nil {
					key := productKeyOf(raw)
					c.log.Warn("cannot read a cazco product; ending the product walk", "product_id", key.ID, "sku", key.SKU, "error", err)
					yield(key, c.malformed(opListProducts, page.status,
						err.Error()+"; the product list cannot be read whole, so the walk stops here"))
					return
				}
				if !yield(p, nil) {
					return
				}
			}
		}
	}
}

// productKeyOf reads what can be read of the id and SKU of a product that fails to
// decode as a whole; each is read on its own, so a bad one does not hide the other.
func productKeyOf(raw []byte) cazbling.MarketProduct {
	var v struct {
		SKU text `json:"sku"`
	}
	if json.Unmarshal(raw, &v) != nil {
		v.SKU = ""
	}
	return cazbling.MarketProduct{ID: rawID(raw), SKU: string(v.SKU)}
}

// CreateProduct creates p (without stock: it starts at 0 and is set with SetStock) and
// returns its id. A SKU that exists already, whether CaZco says so with a 409 (possibly
// after a retried POST whose first try went through) or with a 422 on sku, is an
// *APIError of Kind KindConflict; ExistingID is set when CaZco gave it, else the caller
// looks the SKU up.
func (c *Client) CreateProduct(ctx context.Context, p cazbling.MarketProduct) (string, error) {
	switch {
	case p.SKU == "":
		return "", invalid(opCreateProduct, "cannot create a product without a SKU")
	case p.Name == "":
		return "", invalid(opCreateProduct, fmt.Sprintf("cannot create SKU %s without a name", p.SKU))
	}
	body := newProductWrite(p)
	body.SKU = p.SKU
	if len(p.Attributes) > 0 {
		body.Attributes = p.Attributes
	}
	resp, err := c.do(ctx, request{
		op: opCreateProduct, method: http.MethodPost, url: c.endpoint("/products", nil), body: body,
		// Sent unchanged on every retry, so a server that honours it creates only once.
		header: http.Header{"Idempotency-Key": {rand.Text()}},
	})
	if err != nil {
		var ae *cazbling.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity && skuTaken(ae.Fields) {
			ae.Kind = cazbling.KindConflict
		}
		if errors.As(err, &ae) && ae.Kind == cazbling.KindConflict {
			c.log.Debug("cazco sku exists already", "sku", p.SKU, "status", ae.Status, "existing_id", ae.ExistingID)
		}
		return "", err
	}
	var env itemEnvelope
	if err := c.decode(opCreateProduct, resp, &env); err != nil {
		return "", err
	}
	id := rawID(env.Data)
	if id == "" {
		return "", c.malformed(opCreateProduct, resp.Status, fmt.Sprintf("the created product of SKU %s has no id", p.SKU))
	}
	return id, nil
}

// skuTaken reports whether a 422's field errors say the SKU is in use already.
func skuTaken(fields []cazbling.FieldError) bool {
	for _, f := range fields {
		if f.Field != "sku" {
			continue
		}
		m := strings.ToLower(f.Message)
		for _, word := range []string{"taken", "already", "exist", "duplicat", "unique", "em uso"} {
			if strings.Contains(m, word) {
				return true
			}
		}
	}
	return false
}

// UpdateProduct writes the catalogue fields cazbling owns (name, description, status,
// price, parent_sku, gtin, brand, ncm, weight_kg, dimensions_cm, images) to product id.
// Empty optional fields are sent as null, so stale values are cleared; an empty name or
// status is left out (unchanged). Stock is never sent.
func (c *Client) UpdateProduct(ctx context.Context, id string, p cazbling.MarketProduct) error {
	if id == "" {
		return invalid(opUpdateProduct, "empty product id")
	}
	resp, err := c.do(ctx, request{
		op: opUpdateProduct, method: http.MethodPut,
		url: c.endpoint("/products/"+url.PathEscape(id), nil), body: newProductWrite(p),
	})
	if err != nil {
		return err
	}
	return c.checkJSON(opUpdateProduct, resp)
}

// SetStock sets the absolute stock level of product id.
func (c *Client) SetStock(ctx context.Context, id string, quantity int64) error {
	switch {
	case id == "":
		return invalid(opSetStock, "empty product id")
	case quantity < 0:
		return invalid(opSetStock, fmt.Sprintf("stock of product %s cannot be negative (%d)", id, quantity))
	}
	resp, err := c.do(ctx, request{
		op: opSetStock, method: http.MethodPut,
		url:  c.endpoint("/products/"+url.PathEscape(id)+"/stock", nil),
		body: map[string]int64{"quantity": quantity},
	})
	if err != nil {
		return err
	}
	return c.checkJSON(opSetStock, resp)
}

// checkJSON makes sure a write's answer is CaZco's JSON (or empty): a 200 HTML page
// from a proxy or captive portal means the write did not reach CaZco.
func (c *Client) checkJSON(op string, resp *httpx.Response) error {
	if len(bytes.TrimSpace(resp.Body)) == 0 {
		return nil
	}
	var env itemEnvelope
	return c.decode(op, resp, &env)
}

type stockBatchItem struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// SetStockBatch sets up to 100 absolute levels in one call and returns one result per
// item, in order. A store without the batch endpoint (404) gives an error that is
// cazbling.ErrBatchUnsupported; the caller then uses SetStock.
func (c *Client) SetStockBatch(ctx context.Context, items []cazbling.StockItem) ([]cazbling.StockResult, error) {
	if len(items) == 0 {
		return nil, nil
	}
	if len(items) > maxStockBatch {
		return nil, invalid(opSetStockBatch, fmt.Sprintf("a stock batch takes at most %d items, got %d", maxStockBatch, len(items)))
	}
	body := struct {
		Items []stockBatchItem `json:"items"`
	}{Items: make([]stockBatchItem, len(items))}
	for i, it := range items {
		switch {
		case it.SKU == "":
			return nil, invalid(opSetStockBatch, fmt.Sprintf("stock batch item %d has no SKU", i+1))
		case it.Quantity < 0:
			return nil, invalid(opSetStockBatch, fmt.Sprintf("stock of SKU %s cannot be negative (%d)", it.SKU, it.Quantity))
		}
		body.Items[i] = stockBatchItem{SKU: it.SKU, Quantity: it.Quantity}
	}
	resp, err := c.do(ctx, request{
		op: opSetStockBatch, method: http.MethodPut, url: c.endpoint("/stock", nil), body: body,
	})
	if err != nil {
		var ae *cazbling.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return nil, fmt.Errorf("%w (%w)", cazbling.ErrBatchUnsupported, err)
		}
		return nil, err
	}
	var out struct {
		Data *[]struct {
			SKU     text `json:"sku"`
			Status  text `json:"status"`
			Message text `json:"message"`
		} `json:"data"`
	}
	if err := c.decode(opSetStockBatch, resp, &out); err != nil {
		return nil, err
	}
	if out.Data == nil || len(*out.Data) != len(items) {
		n := 0
		if out.Data != nil {
			n = len(*out.Data)
		}
		return nil, c.malformed(opSetStockBatch, resp.Status, fmt.Sprintf("CaZco answered %d results for a batch of %d items", n, len(items)))
	}
	results := make([]cazbling.StockResult, len(items))
	for i, r := range *out.Data {
		results[i] = cazbling.StockResult{SKU: string(r.SKU), Status: string(r.Status), Message: c.clean(string(r.Message), 300)}
	}
	return results, nil
}
