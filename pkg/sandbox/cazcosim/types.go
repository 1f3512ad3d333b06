package cazcosim

import "time"

// The structs below are the wire format of cazco-seller-v1.yaml: their JSON tags are the
// field names, money is a string with exactly two decimals ("129.90"), ids are opaque
// strings and timestamps are UTC. Pointer fields are the nullable ones: nil is sent as
// null.

// Product is one sellable SKU (one variant) as the API returns it.
type Product struct {
	ID                   string            `json:"id"`
	SKU                  string            `json:"sku"`
	ParentSKU            *string           `json:"parent_sku"`
	Name                 string            `json:"name"`
	Description          *string           `json:"description"`
	Status               string            `json:"status"`
	Price                string            `json:"price"`
	PromotionalPrice     *string           `json:"promotional_price"`
	PromotionalPriceFrom *time.Time        `json:"promotional_price_from"`
	PromotionalPriceTo   *time.Time        `json:"promotional_price_to"`
	Stock                Stock             `json:"stock"`
	GTIN                 *string           `json:"gtin"`
	Brand                *string           `json:"brand"`
	NCM                  *string           `json:"ncm"`
	WeightKg             *string           `json:"weight_kg"`
	Dimensions           *Dimensions       `json:"dimensions_cm"`
	Images               []string          `json:"images"`
	Attributes           map[string]string `json:"attributes"`
	Category             *string           `json:"category"`
	CreatedAt            time.Time         `json:"created_at"`
	UpdatedAt            time.Time         `json:"updated_at"`
}

// Stock is the stock level embedded in a Product.
type Stock struct {
	Quantity      int64     `json:"quantity"`
	WarehouseCode string    `json:"warehouse_code"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Dimensions are package dimensions in centimetres, as decimal strings.
type Dimensions struct {
	Width  string `json:"width"`
	Height string `json:"height"`
	Length string `json:"length"`
}

// StockLevel is the answer of PUT /products/{id}/stock.
type StockLevel struct {
	ProductID     string    `json:"product_id"`
	SKU           string    `json:"sku"`
	Quantity      int64     `json:"quantity"`
	WarehouseCode string    `json:"warehouse_code"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// StockResult is the outcome of one item of PUT /stock.
type StockResult struct {
	SKU     string `json:"sku"`
	Status  string `json:"status"` // updated, not_found, invalid
	Message string `json:"message,omitempty"`
}

// Order is the seller's part (sub-order) of a marketplace cart.
type Order struct {
	ID                 string      `json:"id"`
	Number             string      `json:"number"`
	MarketplaceOrderID *string     `json:"marketplace_order_id"`
	Status             string      `json:"status"`
	StatusLabel        *string     `json:"status_label"`
	CreatedAt          time.Time   `json:"created_at"`
	UpdatedAt          time.Time   `json:"updated_at"`
	PaidAt             *time.Time  `json:"paid_at"`
	CanceledAt         *time.Time  `json:"canceled_at"`
	Currency           string      `json:"currency"`
	Totals             Totals      `json:"totals"`
	Customer           Customer    `json:"customer"`
	BillingAddress     Address     `json:"billing_address"`
	ShippingAddress    Address     `json:"shipping_address"`
	Items              []OrderItem `json:"items"`
	Shipping           Shipping    `json:"shipping"`
	Payment            Payment     `json:"payment"`
	Invoice            *Invoice    `json:"invoice"`   // null until invoiced (v1.1)
	Shipments          []Shipment  `json:"shipments"` // v1.1
	Notes              *string     `json:"notes"`
}

// Totals are an order's money totals: Total = Items - Discount + Shipping, where Items is
// the sum of unit price times quantity and Discount the sum of the item discounts.
type Totals struct {
	Items    string `json:"items"`
	Discount string `json:"discount"`
	Shipping string `json:"shipping"`
	Total    string `json:"total"`
}

// Customer is the buyer of an order.
type Customer struct {
	Name              string  `json:"name"`
	Email             *string `json:"email"`
	Phone             *string `json:"phone"`
	DocumentType      string  `json:"document_type"` // CPF or CNPJ
	Document          string  `json:"document"`      // digits only
	CompanyName       *string `json:"company_name"`
	StateRegistration *string `json:"state_registration"`
}

// Address is a billing or shipping address in an order.
type Address struct {
	Recipient    *string `json:"recipient"`
	Street       string  `json:"street"`
	Number       string  `json:"number"`
	Complement   *string `json:"complement"`
	Neighborhood string  `json:"neighborhood"`
	City         string  `json:"city"`
	State        string  `json:"state"`
	Postcode     string  `json:"postcode"`
	Country      string  `json:"country"`
	Phone        *string `json:"phone"`
}

// OrderItem is one line of an order: Total = UnitPrice * Quantity - Discount.
type OrderItem struct {
	ID        string `json:"id"`
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice string `json:"unit_price"`
	Discount  string `json:"discount"`
	Total     string `json:"total"`
}

// Shipping is how an order travels.
type Shipping struct {
	MethodCode            string     `json:"method_code"`
	Carrier               *string    `json:"carrier"`
	Service               *string    `json:"service"`
	Price                 string     `json:"price"`
	PickupInStore         bool       `json:"pickup_in_store"`
	EstimatedDeliveryDays *int       `json:"estimated_delivery_days"`
	TrackingCode          *string    `json:"tracking_code"`
	TrackingURL           *string    `json:"tracking_url"`
	DispatchedAt          *time.Time `json:"dispatched_at"`
}

// Payment is how an order is paid.
type Payment struct {
	Method        string     `json:"method"` // pix, boleto, credit_card (open set)
	Status        string     `json:"status"` // pending, paid, refused, refunded, canceled (open set)
	Installments  int        `json:"installments"`
	Amount        string     `json:"amount"`
	TransactionID *string    `json:"transaction_id"`
	PaidAt        *time.Time `json:"paid_at"`
}

// Invoice is the NF-e of an order (contract v1.1, PUT /orders/{id}/invoice).
type Invoice struct {
	Number    string     `json:"number"`
	Series    string     `json:"series"`
	AccessKey string     `json:"access_key"`
	IssuedAt  *time.Time `json:"issued_at"`
	Amount    string     `json:"amount"`
	DanfeURL  *string    `json:"danfe_url"`
	XMLURL    *string    `json:"xml_url"`
}

// Shipment is a shipment of an order (contract v1.1, POST /orders/{id}/shipments).
type Shipment struct {
	ID           string     `json:"id"`
	Carrier      string     `json:"carrier"`
	TrackingCode string     `json:"tracking_code"`
	Service      *string    `json:"service"`
	TrackingURL  *string    `json:"tracking_url"`
	ShippedAt    *time.Time `json:"shipped_at"`
	CreatedAt    time.Time  `json:"created_at"`
}

// ErrorBody is the body of every 4xx and 5xx answer.
type ErrorBody struct {
	Code       string              `json:"code"`
	Message    string              `json:"message"`
	Errors     map[string][]string `json:"errors"`
	RequestID  string              `json:"request_id"`
	ExistingID string              `json:"existing_id,omitempty"`
	// ExistingAccessKey is the invoice key already set, on a 409 of PUT /orders/{id}/invoice.
	ExistingAccessKey string `json:"existing_access_key,omitempty"`
}

// ListMeta is the meta member of a list answer.
type ListMeta struct {
	Page     int `json:"page"`
	PerPage  int `json:"per_page"`
	Total    int `json:"total"`
	LastPage int `json:"last_page"`
}

// ListLinks is the links member of a list answer; Next is nil on the last page.
type ListLinks struct {
	Next *string `json:"next"`
	Prev *string `json:"prev"`
}

// Write is one write request (POST or PUT) a store answered, kept for tests to inspect.
// Requests refused before routing (401, 429) are not recorded.
type Write struct {
	Time   time.Time
	Method string
	Path   string // full path, e.g. /api/v1/seller/products/81000/stock
	Status int
	Body   string // the request body as received
}

// Ptr returns a pointer to v, for filling the nullable fields of seeds.
func Ptr[T any](v T) *T { return &v }
