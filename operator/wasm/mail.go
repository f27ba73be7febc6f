package main

import "net/mail"

type addressRequest struct {
	Address string `json:"address"`
}

type addressResponse struct {
	// ParseError: net/mail's error (Alertmanager reports "parse 'to' addresses: <this>" and sends nothing).
	ParseError string `json:"parseError,omitempty"`
	// Name and Address: the parsed display name and bare address.
	Name    string `json:"name"`
	Address string `json:"address"`
}

// parseAddress parses one address with Go's net/mail, the parser Alertmanager's email notifier
// runs on its joined `from` and `to` (notify/email/email.go, ParseAddressList): an address it
// refuses makes the whole list fail, so nobody on it gets the email. Built with the pinned Go,
// as Alertmanager's release is built with a current one.
func parseAddress(req addressRequest) addressResponse {
	a, err := mail.ParseAddress(req.Address)
	if err != nil {
		return addressResponse{ParseError: err.Error()}
	}
	return addressResponse{Name: a.Name, Address: a.Address}
}
