package dst

// The service types of the federation (ARCHITECTURE "Service types"), each
// a DST 2.1 service with its own namespace and schema
// (xmlsec/xsd/schemas/renkei-svc-NAME-1.0.xsd). The catalog is what the
// WSP engine serves and what a WSC decodes: every item type, its fields in
// schema order, their types, which may appear in a Select predicate and
// which write operations the service offers. The audit service
// (urn:renkei:svc:audit:1.0) has its own package, wsf/audit.

// The service type URNs.
const (
	Clinical    = "urn:renkei:svc:clinical:1.0"
	Checkup     = "urn:renkei:svc:checkup:1.0"
	Appointment = "urn:renkei:svc:appointment:1.0"
	Eligibility = "urn:renkei:svc:eligibility:1.0"
	Pension     = "urn:renkei:svc:pension:1.0"
)

// FieldType is the XSD type of a field's element.
type FieldType int

// The field types (xs:string, xs:date, xs:dateTime, xs:integer,
// xs:decimal, xs:gYearMonth, xs:boolean).
const (
	String FieldType = iota + 1
	Date
	DateTime
	Integer
	Decimal
	GYearMonth
	Boolean
)

// Field is one child element of an item.
type Field struct {
	Name string
	Type FieldType
	// Required fields are present in every item the service returns.
	Required bool
	// Filter: the field may appear in a Select predicate
	// ("/p:Item[p:Field='v']").
	Filter bool
	// Input: the field is given in NewData of a Create or Modify; the
	// others are the back office's to fill.
	Input bool
}

// ItemType is one kind of item a service holds.
type ItemType struct {
	Name   string
	Fields []Field
	// Create, Modify and Delete report the write operations the service
	// type offers on this item type (a WSP's mapping may offer fewer).
	Create, Modify, Delete bool
}

// Service is one service type.
type Service struct {
	NS     string
	Prefix string
	Items  []ItemType
}

// Item returns the item type named name, or nil.
func (s *Service) Item(name string) *ItemType {
	for i := range s.Items {
		if s.Items[i].Name == name {
			return &s.Items[i]
		}
	}
	return nil
}

// Field returns the field named name, or nil.
func (t *ItemType) Field(name string) *Field {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return &t.Fields[i]
		}
	}
	return nil
}

// Writable reports whether the item type takes any write operation.
func (t *ItemType) Writable() bool { return t.Create || t.Modify || t.Delete }

func f(name string, t FieldType) Field   { return Field{Name: name, Type: t} }
func req(name string, t FieldType) Field { return Field{Name: name, Type: t, Required: true} }
func filter(name string, t FieldType) Field {
	return Field{Name: name, Type: t, Required: true, Filter: true}
}
func input(fl Field) Field { fl.Input = true; return fl }

var services = []*Service{
	{NS: Clinical, Prefix: "cl", Items: []ItemType{
		// A laboratory result: Code is the JLAC10 test code, Value the
		// result as reported (numeric or qualitative such as "(-)"), Low
		// and High the reference range in Unit.
		{Name: "LabResult", Fields: []Field{req("Date", DateTime), filter("Code", String), req("Name", String),
			req("Value", String), f("Unit", String), f("Low", Decimal), f("High", Decimal), f("Department", String)}},
		// A prescription line: Code is the YJ drug code.
		{Name: "Prescription", Fields: []Field{req("Date", Date), f("Code", String), req("Drug", String),
			req("Dose", String), f("Usage", String), f("Days", Integer), f("Prescriber", String), f("Department", String)}},
	}},
	{NS: Checkup, Prefix: "ck", Items: []ItemType{
		{Name: "Checkup", Fields: []Field{req("Date", Date), filter("Kind", String), f("Height", Decimal),
			f("Weight", Decimal), f("BMI", Decimal), f("Waist", Decimal), f("Systolic", Integer),
			f("Diastolic", Integer), f("HbA1c", Decimal), f("LDL", Integer), f("Judgement", String), f("Findings", String)}},
	}},
	{NS: Appointment, Prefix: "ap", Items: []ItemType{
		// An outpatient slot: Remaining places of Capacity. Slots are
		// the institution's, the same for every subject.
		{Name: "Slot", Fields: []Field{filter("Department", String), filter("Doctor", String), req("Start", DateTime),
			req("End", DateTime), req("Capacity", Integer), req("Remaining", Integer)}},
		// The subject's booking of a slot: Create gives Slot (the Slot's
		// id), Modify moves it to another slot, Delete cancels it.
		{Name: "Appointment", Fields: []Field{input(req("Slot", String)), req("Department", String), req("Doctor", String),
			req("Start", DateTime), req("End", DateTime), f("Status", String)},
			Create: true, Modify: true, Delete: true},
	}},
	{NS: Eligibility, Prefix: "el", Items: []ItemType{
		// Insurance eligibility: Symbol may hold kanji; Copayment is the
		// ratio the patient pays (0.3).
		{Name: "Eligibility", Fields: []Field{req("Insured", Boolean), req("InsurerNumber", String), req("InsurerName", String),
			f("Kind", String), f("Symbol", String), req("Number", String), f("Branch", String),
			req("Copayment", Decimal), req("ValidFrom", Date), f("ValidUntil", Date)}},
	}},
	{NS: Pension, Prefix: "pn", Items: []ItemType{
		// One month of the contribution record: Kind is national or
		// employee pension, Status paid, unpaid or exempt.
		{Name: "Contribution", Fields: []Field{req("Month", GYearMonth), filter("Kind", String), f("Amount", Integer),
			filter("Status", String)}},
		// The record's summary: months counted and the pension expected
		// at the normal age, in yen a year.
		{Name: "Summary", Fields: []Field{req("Months", Integer), f("PaidMonths", Integer), f("ExemptMonths", Integer),
			f("ExpectedAnnual", Integer), f("PensionAge", Integer)}},
	}},
}

// Services returns the service types, in a fixed order.
func Services() []*Service { return services }

// Lookup returns the service type ns, or nil.
func Lookup(ns string) *Service {
	for _, s := range services {
		if s.NS == ns {
			return s
		}
	}
	return nil
}
