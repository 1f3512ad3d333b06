package panel

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// The pt-BR catalogue: every word the seller reads. Log rows are rendered from their
// code and parameters (cazbling.LogEntry.Code, Params); a row without a known code
// (written before codes existed) shows its stored text.

// saoPaulo is the seller's time zone (time/tzdata is linked in by pkg/flow).
var saoPaulo = func() *time.Location {
	if l, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return l
	}
	return time.FixedZone("BRT", -3*3600)
}()

// formatTime is a time as a seller in Brazil reads it: São Paulo time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(saoPaulo).Format("02/01/2006 15:04")
}

// FormatBRL formats an amount as R$ 1.234,56.
func FormatBRL(d decimal.Decimal) string {
	neg := d.IsNegative()
	s := d.Abs().StringFixed(2)
	whole, cents, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	out := "R$ " + b.String() + "," + cents
	if neg {
		out = "-" + out
	}
	return out
}

// maskKey shows only the last four characters of a secret.
func maskKey(k string) string {
	if k == "" {
		return ""
	}
	r := []rune(k)
	if len(r) <= 4 {
		return "••••"
	}
	return "••••" + string(r[len(r)-4:])
}

var flowLabels = map[string]string{
	cazbling.FlowProducts: "Produtos", cazbling.FlowStock: "Estoque",
	cazbling.FlowOrders: "Pedidos", cazbling.FlowActivate: "Sincronização inicial",
}

func flowLabel(f string) string {
	if l := flowLabels[f]; l != "" {
		return l
	}
	return f
}

var statusFilterLabels = map[string]string{
	cazbling.StatusOK: "ok", cazbling.StatusWarning: "aviso", cazbling.StatusError: "erro",
	cazbling.StatusSkipped: "ignorado",
}

func outcomeLabel(status string) string {
	switch status {
	case cazbling.StatusOK:
		return "ok"
	case cazbling.StatusWarning:
		return "ok, com avisos"
	case cazbling.StatusError:
		return "erro"
	case cazbling.StatusSkipped:
		return "ignorado"
	case "running":
		return "em andamento"
	}
	return status
}

func statusLabel(s cazbling.TenantStatus) string {
	switch s {
	case cazbling.TenantActive:
		return "Ativa: sincronizando"
	case cazbling.TenantInvited:
		return "Aguardando configuração"
	case cazbling.TenantNeedsReauth:
		return "O Bling precisa ser conectado de novo"
	case cazbling.TenantPaused:
		return "Pausada até a cota diária do Bling renovar"
	case cazbling.TenantPausedBySeller:
		return "Pausada por você"
	case cazbling.TenantInactive:
		return "Desativada pelo suporte"
	}
	return string(s)
}

// whatToDo is the home page's advice for the tenant's state.
func whatToDo(t cazbling.Tenant, failing int) string {
	switch t.Status {
	case cazbling.TenantInvited:
		if t.CazcoURL == "" || t.CazcoAPIKey == "" {
			return "Informe o endereço da API e a chave da sua loja CaZco (passo 1, abaixo). Depois, conecte o Bling."
		}
		return "Conecte sua conta no Bling (passo 2, abaixo): a primeira sincronização começa logo depois."
	case cazbling.TenantNeedsReauth:
		return "A autorização do Bling foi revogada ou expirou. Clique em “Conectar com o Bling” e autorize de novo: nada do que já foi sincronizado se perde."
	case cazbling.TenantPausedBySeller:
		return "Nada é sincronizado enquanto a integração estiver pausada. Clique em “Retomar” para continuar de onde parou."
	case cazbling.TenantPaused:
		return "Nada a fazer: a sincronização continua sozinha quando a cota diária do Bling renovar (meia-noite, horário de Brasília)."
	case cazbling.TenantInactive:
		return "A integração foi desativada pelo suporte da CaZco. Fale com o suporte para reativá-la."
	}
	if failing > 0 {
		return fmt.Sprintf("%d itens estão com erro agora. Veja o registro, filtrando por “erro”: cada linha diz o que fazer.", failing)
	}
	return "Nada a fazer: tudo em dia."
}

func initialLabel(v initialView) string {
	switch v.State {
	case "running":
		if v.Total > 0 {
			return fmt.Sprintf("Em andamento: %d de %d produtos", v.Done, v.Total)
		}
		return fmt.Sprintf("Em andamento: %d produtos processados até agora", v.Done)
	case "done":
		return "Concluída"
	case "pending":
		return "Interrompida: continua na próxima sincronização automática de produtos"
	case "not_started":
		return "Ainda não começou (conecte a CaZco e o Bling)"
	}
	return v.State
}

// catalogue holds a pt-BR message and hint per log code. In messages, {name} is a
// parameter and {key} the row's key (SKU or order id).
var catalogue = map[string]struct{ msg, hint string }{
	"product.created":   {"Produto {key} criado na CaZco.", ""},
	"product.updated":   {"Produto {key} atualizado na CaZco.", ""},
	"product.unchanged": {"Produto {key} já estava atualizado na CaZco.", ""},
	"product.skipped":   {"Produto {key} não enviado de propósito (por exemplo, um serviço, que não é vendido na CaZco).", ""},
	"product.failed": {"Produto {key} não foi enviado à CaZco.",
		"Confira os dados do produto no Bling (nome, preço, GTIN, NCM); corrigido, ele vai na próxima sincronização."},
	"product.retry_later": {"O Bling ou a CaZco não responderam bem agora; o produto {key} será tentado de novo na próxima sincronização.",
		"Nada a fazer: será tentado de novo automaticamente."},
	"product.would_write": {"Simulação: o produto {key} seria criado ou atualizado na CaZco.", ""},
	"product.no_sku": {"O produto {bling_id} do Bling não tem código (SKU) e não foi enviado.",
		"Cadastre um código (SKU) para o produto no Bling; ele será sincronizado na próxima execução."},
	"product.duplicate_sku": {"O SKU {key} é usado por mais de um produto no Bling ({ids}); nenhum deles foi enviado.",
		"Dê a cada produto um código (SKU) próprio no Bling."},
	"stock.stock_set": {"Estoque de {key} definido em {qty} na CaZco.", ""},
	"stock.failed": {"O estoque de {key} não foi atualizado na CaZco.",
		"Confira se o SKU existe na CaZco e no Bling."},
	"stock.retry_later": {"O estoque de {key} será enviado de novo na próxima sincronização (o Bling ou a CaZco não responderam bem agora).",
		"Nada a fazer: será tentado de novo automaticamente."},
	"stock.skipped":          {"O Bling não informou saldo para {key}; o estoque na CaZco ficou como estava.", "Confira se o produto ainda existe no Bling."},
	"stock.would_write":      {"Simulação: o estoque de {key} seria atualizado na CaZco.", ""},
	"order.created":          {"Pedido #{number} registrado no Bling.", ""},
	"order.already_in_bling": {"Pedido #{number} já estava no Bling; não foi registrado de novo.", ""},
	"order.failed": {"Pedido #{number} não foi registrado no Bling; será tentado de novo a cada sincronização.",
		"Confira os SKUs e os dados do comprador (CPF/CNPJ) do pedido; corrigidos, ele é registrado na próxima execução."},
	"order.retry_later": {"Pedido #{number} será tentado de novo na próxima sincronização.",
		"Nada a fazer: será tentado de novo automaticamente."},
	"order.skipped":           {"Pedido #{number} não é registrado no Bling (situação não importada).", ""},
	"order.would_write":       {"Simulação: o pedido #{number} seria registrado no Bling.", ""},
	"order.invoice_sent":      {"Pedido #{number}: a NF-e autorizada no Bling foi enviada à CaZco como nota fiscal do pedido.", ""},
	"order.shipment_sent":     {"Pedido #{number}: o código de rastreio do Bling foi enviado à CaZco como envio do pedido.", ""},
	"order.canceled_in_cazco": {"Pedido #{number} foi cancelado no Bling; cancelado também na CaZco.", ""},
	"order.canceled_in_bling": {"Pedido #{number} foi cancelado na CaZco; o pedido de venda no Bling passou para Cancelado.", ""},
	"order.cancel_blocked": {"Pedido #{number} foi cancelado na CaZco, mas o pedido no Bling tem NF-e autorizada; nada foi cancelado no Bling.",
		"Cancele a NF-e no Bling; na sincronização seguinte o pedido é cancelado no Bling automaticamente."},
	"order.lifecycle_ok": {"Pedido #{number}: o problema anterior foi resolvido; nada de novo a enviar por enquanto.", ""},
	"order.lifecycle_closed": {"Pedido #{number} não tem NF-e autorizada há muito tempo; o cazbling deixou de acompanhá-lo.",
		"Informe a nota fiscal e o rastreio do pedido na CaZco manualmente."},
	"product.retired": {"Produto {key} foi excluído no Bling; na CaZco ficou inativo e com estoque 0.",
		"Se a exclusão foi um engano, restaure o produto no Bling: ele volta à venda na próxima sincronização."},
	"tenant.retry_later": {"O Bling ou a CaZco não responderam bem agora; a parte que faltou será feita na próxima sincronização.",
		"Nada a fazer: será tentado de novo automaticamente."},
	"tenant.failed": {"A sincronização parou antes do fim; o que faltou fica para a próxima.",
		"Se isso se repetir, fale com o suporte e informe o detalhe técnico."},
}

// Message is a log row's message in Portuguese, or its stored text when the row has
// no code the catalogue knows.
func Message(e cazbling.LogEntry) string {
	c, ok := catalogue[e.Code]
	if !ok {
		return e.Message
	}
	p := e.Params.Map()
	if p["number"] == "" {
		p["number"] = e.Key
	}
	if p["bling_id"] == "" {
		p["bling_id"] = e.BlingID
	}
	p["key"] = e.Key
	msg := fill(c.msg, p)
	if e.Code == "stock.stock_set" {
		if was := p["was"]; was != "" {
			msg = strings.TrimSuffix(msg, ".") + " (antes " + was + ")."
		}
		if p["negative"] == "1" {
			msg += " O saldo no Bling estava negativo e foi enviado como 0."
		}
	}
	return msg
}

// Hint is what the seller can do about a log row, "" when nothing.
func Hint(e cazbling.LogEntry) string {
	return catalogue[e.Code].hint
}

func fill(tmpl string, p map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		j := strings.IndexByte(tmpl, '}')
		if i < 0 || j < i {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		b.WriteString(p[tmpl[i+1:j]])
		tmpl = tmpl[j+1:]
	}
}

// message is a message page's text.
type message struct {
	title, text string
	home        bool
}

// Message pages and notices.
var (
	msgNotFound      = message{"Página não encontrada", "O endereço não existe.", true}
	msgInternal      = message{"Algo deu errado", "Não foi possível concluir agora. Tente de novo em instantes; se continuar, fale com o suporte.", true}
	msgForbidden     = message{"Pedido recusado", "Esta ação não veio desta página do painel (o formulário expirou ou veio de outro site). Nada foi alterado. Abra o painel e tente de novo.", true}
	msgNoSession     = message{"Entre pelo seu link", "Sua sessão não existe ou expirou. Entre pelo link de convite que você recebeu, ou pela sua área de vendedor na CaZco.", false}
	msgInviteInvalid = message{"Link de convite inválido", "Este link não é válido, já foi usado ou expirou. Cada link funciona uma única vez: peça um novo ao suporte da CaZco.", false}
	msgSSOInvalid    = message{"Não foi possível entrar", "O acesso enviado pela CaZco não é válido, expirou ou já foi usado. Volte à sua área de vendedor na CaZco e clique de novo.", false}
	msgTooMany       = message{"Muitas tentativas", "Foram muitas tentativas de entrar a partir deste endereço. Espere um minuto e tente de novo.", false}
	msgTooLarge      = message{"Dados grandes demais", "O formulário enviado é grande demais. Nada foi gravado.", true}
	msgBadRequest    = message{"Pedido inválido", "Não foi possível ler o formulário. Nada foi gravado.", true}
	msgLoggedOut     = message{"Você saiu", "Sua sessão foi encerrada. Para voltar, use um novo link de convite ou a sua área de vendedor na CaZco.", false}
)

// Notices on the home page (pt-BR).
const (
	msgCazcoMissing   = "Informe o endereço da API da CaZco e a chave de API."
	msgCazcoTooLong   = "O endereço ou a chave são longos demais."
	msgCazcoURL       = "O endereço da API da CaZco deve começar com https:// (por exemplo, https://s623.cazco.link/api/v1/seller)."
	msgCazcoRefused   = "A CaZco recusou estes dados. Confira o endereço e a chave de API (na sua área de vendedor da CaZco). Nada foi gravado."
	msgCazcoFirst     = "Conecte primeiro a sua loja da CaZco (passo 1)."
	msgBlingDenied    = "Você não autorizou o acesso no Bling, então nada foi conectado nem gravado. Quando quiser, clique em “Conectar com o Bling” de novo."
	msgBlingFailed    = "O Bling não concluiu a autorização. Nada foi gravado. Tente conectar de novo."
	msgStateInvalid   = "Esta resposta do Bling não corresponde a uma conexão iniciada nesta sessão (ou já foi usada, ou passou de 10 minutos). Nada foi gravado. Clique em “Conectar com o Bling” para começar de novo."
	msgCodeRefused    = "O Bling não aceitou o código de autorização (ele vale 1 minuto e uma única vez). Nada foi gravado. Clique em “Conectar com o Bling” para tentar de novo."
	msgBlingVerify    = "O Bling autorizou, mas não conseguimos ler os dados da sua empresa no Bling. Nada foi gravado. Tente de novo em instantes."
	msgStatusConflict = "Não é possível fazer isso no estado atual da integração."
)
