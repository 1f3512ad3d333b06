package cazbling

import (
	"time"

	"github.com/shopspring/decimal"
)

// MarketProduct is a product as the marketplace holds it (one sellable SKU).
// Pointer fields are optional: nil leaves the field out of a write.
type MarketProduct struct {
	ID          string
	SKU         string
	ParentSKU   string
	Name        string
	Description string
	Status      string // active, inactive (open set)
	Price       decimal.Decimal
	GTIN        string
	Brand       string
	NCM         string
	WeightKg    string // decimal string
	Dimensions  *Dimensions
	Images      []string
	Attributes  map[string]string
	Stock       int64 // read only; writes go through SetStock
}

// Dimensions are package dimensions in centimetres, as decimal strings.
type Dimensions struct {
	Width  string
	Height string
	Length string
}

// StockItem is one absolute stock level to set, by SKU.
type StockItem struct {
	SKU      string
	Quantity int64
}

// StockResult is the marketplace's answer for one StockItem of a batch.
type StockResult struct {
	SKU     string
	Status  string // updated, not_found, invalid (open set)
	Message string
}

// Order is a marketplace order (the seller's part of a cart).
type Order struct {
	ID                    string
	Number                string
	Status                string // open set
	CreatedAt             time.Time
	UpdatedAt             time.Time
	PaidAt                time.Time
	Customer              Customer
	Billing               Address
	Shipping              Address
	Items                 []OrderItem
	ItemsTotal            decimal.Decimal
	Discount              decimal.Decimal
	ShippingPrice         decimal.Decimal
	Total                 decimal.Decimal
	Carrier               string
	ShippingService       string
	EstimatedDeliveryDays int
	PaymentMethod         string // pix, boleto, credit_card (open set)
	PaymentStatus         string
	Installments          int
	Notes                 string
}

// Customer is the buyer of an Order.
type Customer struct {
	Name              string
	Email             string
	Phone             string
	DocumentType      string // CPF or CNPJ
	Document          string // digits
	CompanyName       string
	StateRegistration string // IE digits or ISENTO
}

// OrderItem is one line of an Order.
type OrderItem struct {
	ID        string
	SKU       string
	Name      string
	Quantity  int64
	UnitPrice decimal.Decimal
	Discount  decimal.Decimal
	Total     decimal.Decimal
}

// OrderQuery selects marketplace orders changed in a window.
type OrderQuery struct {
	UpdatedSince time.Time // inclusive
	UpdatedUntil time.Time // exclusive; zero: open
	PerPage      int
	Statuses     []string // only orders in these statuses; nil: all
}

// MarketInfo is what a cheap marketplace call says about the store, shown by activate.
type MarketInfo struct {
	Products int // total products in the store
}
