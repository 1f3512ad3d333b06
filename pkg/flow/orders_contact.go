package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// contact returns the Bling contact id of the buyer with document doc, creating the
// contact if Bling has none. In a dry run a missing contact is not created: 0.
func (s *orderSync) contact(ctx context.Context, o cazbling.Order, doc string) (int64, error) {
	if id, ok := s.contacts[doc]; ok {
		return id, nil
	}
	if s.lostBuyers[doc] {
		// Creating this contact had no clear answer earlier in the run: a second POST
		// could make a duplicate, so wait for the next run's look-up.
		return 0, &cazbling.APIError{API: "bling", Op: "POST /contatos", Kind: cazbling.KindNetwork,
			Message: "an earlier attempt this run to create this contact had no clear answer"}
	}
	c, found, err := s.j.ERP.ContactByDocument(ctx, doc)
	if err != nil {
		return 0, err
	}
	if found && c.ID != 0 {
		s.contacts[doc] = c.ID
		return c.ID, nil
	}
	if s.j.Opts.DryRun {
		s.contacts[doc] = 0
		return 0, nil
	}
	id, err := s.j.ERP.CreateContact(ctx, buyerContact(o, doc))
	if err == nil && id == 0 {
		err = errors.New("Bling answered the contact POST without an id")
	}
	if err != nil {
		if !refusedForGood(err) {
			s.lostBuyers[doc] = true
		}
		return 0, err
	}
	s.contacts[doc] = id
	return id, nil
}

// checkBuyer says why a buyer cannot become a Bling contact, or "".
func checkBuyer(c cazbling.Customer) string {
	kind := documentKind(c)
	digits, ok := documentDigits(c.Document)
	valid := false
	switch kind {
	case "CPF":
		valid = ok && ValidCPF(digits)
	case "CNPJ":
		valid = ok && ValidCNPJ(digits)
	default:
		return fmt.Sprintf("buyer document type %q is neither CPF nor CNPJ (document %q); correct the buyer in CaZco", c.DocumentType, c.Document)
	}
	if !valid {
		return fmt.Sprintf("buyer document %q is not a valid %s (wrong length, characters or check digits); correct the buyer in CaZco and the order is filed on the next run", c.Document, kind)
	}
	if strings.TrimSpace(c.Name) == "" && strings.TrimSpace(c.CompanyName) == "" {
		return "the buyer has no name in CaZco; Bling needs one for the contact"
	}
	return ""
}

// documentKind is CPF or CNPJ as CaZco says, or guessed from the length when CaZco
// left the type out.
func documentKind(c cazbling.Customer) string {
	switch strings.ToUpper(strings.TrimSpace(c.DocumentType)) {
	case "CPF":
		return "CPF"
	case "CNPJ":
		return "CNPJ"
	case "":
		if d, ok := documentDigits(c.Document); ok {
			switch len(d) {
			case 11:
				return "CPF"
			case 14:
				return "CNPJ"
			}
		}
	}
	return strings.TrimSpace(c.DocumentType)
}

// buyerContact is the Bling contact for an order's buyer.
func buyerContact(o cazbling.Order, doc string) cazbling.Contact {
	cust := o.Customer
	c := cazbling.Contact{
		Name: strings.TrimSpace(cust.Name), Type: "F", Document: doc,
		Email: cust.Email, Phone: cust.Phone, IEIndicator: 9,
		Address: o.Billing,
	}
	if c.Address.Street == "" {
		c.Address = o.Shipping
	}
	if documentKind(cust) == "CNPJ" {
		c.Type = "J"
		if n := strings.TrimSpace(cust.CompanyName); n != "" {
			c.Name = n
		}
		ie := strings.TrimSpace(cust.StateRegistration)
		switch {
		case strings.EqualFold(ie, "ISENTO"):
			c.IEIndicator = 2
		case Digits(ie) != "":
			c.IE, c.IEIndicator = Digits(ie), 1
		}
	}
	if c.Name == "" {
		c.Name = strings.TrimSpace(cust.CompanyName)
	}
	return c
}
