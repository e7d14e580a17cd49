// Package sqlmap serves an institution's existing SQL database as a WSP
// back office (wsp.Backend): SQLite or PostgreSQL, described by a mapping
// file. Bringing an institution on is writing that file; no Go code is
// written per institution.
//
// # The mapping file
//
// A mapping file is JSON. It names the database, and for each service type
// the WSP offers, how to tell its subjects and, per item type, the query
// listing a subject's records and the statements that create, change or
// remove one. This one serves hospital A's laboratory results and
// outpatient appointments:
//
//	{
//	  "comment": "Hospital A: clinical results and outpatient appointments.",
//	  "driver": "sqlite",
//	  "dsn": "file:hospital-a.db",
//	  "timeout": "2s",
//	  "services": {
//	    "urn:renkei:svc:clinical:1.0": {
//	      "subject": "SELECT 1 FROM patients WHERE patient_no = :subject",
//	      "items": {
//	        "LabResult": {
//	          "query": "SELECT r.result_id, r.collected_at, r.jlac10, r.test_name, r.result_value, r.unit, r.ref_low, r.ref_high, r.dept, r.updated_at FROM lab_results r WHERE r.patient_no = :subject",
//	          "id": "result_id",
//	          "modified": "updated_at",
//	          "order": "collected_at DESC, result_id DESC",
//	          "columns": {
//	            "Date": "collected_at", "Code": "jlac10", "Name": "test_name", "Value": "result_value",
//	            "Unit": "unit", "Low": "ref_low", "High": "ref_high", "Department": "dept"
//	          }
//	        }
//	      }
//	    },
//	    "urn:renkei:svc:appointment:1.0": {
//	      "subject": "SELECT 1 FROM patients WHERE patient_no = :subject",
//	      "items": {
//	        "Slot": {
//	          "query": "SELECT slot_id, dept, doctor, starts_at, ends_at, capacity, capacity - booked AS remaining FROM slots",
//	          "id": "slot_id",
//	          "order": "starts_at, slot_id",
//	          "columns": {
//	            "Department": "dept", "Doctor": "doctor", "Start": "starts_at", "End": "ends_at",
//	            "Capacity": "capacity", "Remaining": "remaining"
//	          }
//	        },
//	        "Appointment": {
//	          "query": "SELECT b.booking_id, b.slot_id, s.dept, s.doctor, s.starts_at, s.ends_at, b.status, b.updated_at FROM bookings b JOIN slots s ON s.slot_id = b.slot_id WHERE b.patient_no = :subject",
//	          "id": "booking_id",
//	          "modified": "updated_at",
//	          "order": "starts_at, booking_id",
//	          "columns": {
//	            "Slot": "slot_id", "Department": "dept", "Doctor": "doctor", "Start": "starts_at", "End": "ends_at",
//	            "Status": "status"
//	          },
//	          "create": [
//	            {"sql": "UPDATE slots SET booked = booked + 1 WHERE slot_id = :Slot AND booked < capacity",
//	             "rows": 1, "refuse": "InvalidData", "third": "urn:renkei:status:SlotFull", "detail": "the slot is fully booked"},
//	            {"sql": "INSERT INTO bookings (patient_no, slot_id, booked_at, updated_at) VALUES (:subject, :Slot, :now, :now) RETURNING booking_id",
//	             "returns": "id"}
//	          ],
//	          "modify": [
//	            {"sql": "UPDATE slots SET booked = booked - 1 WHERE slot_id = (SELECT slot_id FROM bookings WHERE booking_id = :id AND patient_no = :subject)",
//	             "rows": 1, "refuse": "DoesNotExist"},
//	            {"sql": "UPDATE slots SET booked = booked + 1 WHERE slot_id = :Slot AND booked < capacity",
//	             "rows": 1, "refuse": "InvalidData", "third": "urn:renkei:status:SlotFull", "detail": "the slot is fully booked"},
//	            {"sql": "UPDATE bookings SET slot_id = :Slot, updated_at = :now WHERE booking_id = :id AND patient_no = :subject",
//	             "rows": 1, "refuse": "DoesNotExist"}
//	          ],
//	          "delete": [
//	            {"sql": "UPDATE slots SET booked = booked - 1 WHERE slot_id = (SELECT slot_id FROM bookings WHERE booking_id = :id AND patient_no = :subject)",
//	             "rows": 1, "refuse": "DoesNotExist"},
//	            {"sql": "DELETE FROM bookings WHERE booking_id = :id AND patient_no = :subject",
//	             "rows": 1, "refuse": "DoesNotExist"}
//	          ]
//	        }
//	      }
//	    }
//	  }
//	}
//
// The members of the file:
//
//   - driver: "sqlite" (SQLite 3.35 or later) or "pgx" (PostgreSQL).
//   - dsn: the database. For SQLite, the file's path, "file:" before it
//     optional, relative to the mapping file's directory; the file must
//     exist. Options of the modernc.org/sqlite driver may follow a '?'.
//     For PostgreSQL, a postgres:// URL or a "host=... dbname=..." string
//     (give the password through PGPASSFILE or PGPASSWORD rather than in
//     the file). A deployment may open another database than the file
//     names (WithDSN): two WSP nodes in front of one PostgreSQL database
//     share one mapping file.
//   - timeout: how long any one call to the back office may take, as Go
//     writes durations ("2s", "500ms"); 2s when absent. A call that takes
//     longer is abandoned and the requester hears TimeOut.
//   - connections: the most connections the WSP opens to the database
//     (for SQLite, reading connections; it writes over one); 8 when absent.
//   - services: per service type URN (the catalog of wsf/dst), an object
//     with subject and items.
//
// A service has:
//
//   - subject: a query that returns a row when :subject is one of the
//     institution's subjects for this service (a patient, an insured
//     person) and none otherwise.
//   - items: per item type of the service type (LabResult, Appointment,
//     ...), the object below. Item types left out are not served; the WSP
//     does not register them.
//
// An item type has:
//
//   - query: a SELECT listing the records the subject :subject may see,
//     one row a record. Slots and other records that are the
//     institution's rather than the subject's simply do not use :subject.
//   - id: the column of the query holding the record's identifier, unique
//     among the subject's records.
//   - modified: optional, the column of the query holding the time the
//     record last changed. Without it the item type keeps no history: a
//     requester asking for what changed since a time gets every record and
//     is told so, and writes cannot check NotChangedSince. On PostgreSQL
//     it is a date, timestamp or timestamptz column (timestamp read as
//     UTC); on SQLite, ISO 8601 text as SQLite's date functions write it
//     ("2024-05-20T09:30:00Z", "2024-05-20 09:30:00", with or without a
//     zone; without one it is UTC).
//   - order: optional, the ORDER BY of the records, over the query's
//     column names (newest first where the records have a date); the id
//     when absent. Keep it total (end with the id) so that pages do not
//     overlap.
//   - columns: per field of the item type (the catalog's element names:
//     Date, Code, ...), the column of the query holding it. Every field
//     the catalog marks required must be mapped; optional ones may be left
//     out. Columns not mapped are not returned to anyone.
//   - create, modify, delete: optional lists of statements that perform
//     the write operation; an operation without a list is refused
//     (ActionNotAuthorized). The service type decides which operations an
//     item type may have at all.
//
// A statement of a write list has:
//
//   - sql: one INSERT, UPDATE or DELETE.
//   - rows: optional, the number of rows the statement must affect (for a
//     statement with returns, the number of rows it returns). When it
//     affects another number, the whole request is rolled back and the
//     write is refused with refuse, third and detail.
//   - refuse: the DST status the requester hears: InvalidData (when
//     absent), DoesNotExist, ExistsAlready, ModifiedSince or
//     ActionNotAuthorized.
//   - third: optional, a URN naming the reason more precisely; Renkei
//     defines urn:renkei:status:SlotFull for a slot whose capacity is
//     taken.
//   - detail: optional, a sentence for the requester's logs.
//   - returns: "id" on the INSERT ... RETURNING <id> of a create: the new
//     record's identifier. A create list must have one.
//
// Every object but columns may carry a "comment" member, which is ignored.
// Any other member the format does not know is an error, as a misspelt
// member would otherwise be silently lost.
//
// # Parameters
//
// Statements name the values of a request with a colon:
//
//   - :subject, the subject's local identifier at this institution (the
//     SPProvidedID the discovery service gave for it), in every statement.
//   - :now, the time of the request, as UTC RFC 3339 text
//     ("2024-06-10T08:00:00Z"), in every statement; PostgreSQL converts it
//     to a timestamp where a column or a cast (:now::timestamptz) asks.
//   - :id, the record's identifier, in modify and delete statements, and
//     in create statements after the one that returns it.
//   - :Field, for each field the catalog marks as given in a create or
//     modify request (Appointment's Slot), in write statements; NULL when
//     the request leaves it out. Values are text as the request wrote them
//     ("2", "2024-07-01"); the database converts them where the column
//     asks.
//
// The adapter rewrites parameters to the driver's placeholders when it
// loads the file, so values never become SQL text. It leaves alone what
// only looks like a parameter: text in string literals, quoted
// identifiers and comments, and PostgreSQL's :: casts. Any other name, and
// the drivers' own placeholders (? or $1), are errors when the file is
// loaded. Statements are single statements; a trailing semicolon is
// allowed.
//
// # Lookups
//
// The engine's lookups run the item query as a subquery:
//
//	SELECT * FROM (<query>) q WHERE q.<id> = :id AND q.<column> = <value>
//	    AND q.<modified> > <changedSince> ORDER BY <order> LIMIT n OFFSET m
//
// with only the conditions the lookup asks for. A lookup may select on
// fields the catalog marks as selectable (LabResult's Code, Slot's
// Department). Pages are 20 records unless the requester asks for others,
// and at most 200.
//
// Values reach the engine as strings, integers, decimals, booleans or
// times: an integer field stored as text is read as an integer, a decimal
// stored as NUMERIC or text as a decimal, a boolean stored as 0/1 or text
// as a boolean. A date or time field is passed on as the database gives
// it, a time or ISO 8601 text. NULL is an absent field.
//
// # Writes
//
// All the writes of one request (a Create, Modify or Delete may carry
// several items) run in one transaction: either every statement of every
// write takes effect or none does. On PostgreSQL the transaction is READ
// COMMITTED: an UPDATE that tests a condition (booked < capacity) waits for
// any concurrent one on the same row and tests the condition again against
// its result, so two requests never both take a slot's last place. On
// SQLite the transaction takes the database's write lock when it begins
// (BEGIN IMMEDIATE), so concurrent writers, from this WSP or another
// process, run one after the other; they wait for the lock for at most the
// timeout. The adapter opens the SQLite file in WAL mode so that lookups
// are not blocked while a write runs.
//
// For each write, in the transaction:
//
//  1. Modify and Delete first look the record up by :id through the item
//     query, so a subject changes only records its own lookups show: when
//     it is not there the write is refused with DoesNotExist. When the
//     request gives NotChangedSince and the item has a modified column, a
//     record changed after that time is refused with ModifiedSince.
//  2. The statements of the write list run in order. A statement whose
//     rows do not match refuses the write and rolls back the whole
//     request.
//  3. Create and Modify read the record back through the item query, by
//     its id, and return it as the requester will see it; Delete returns
//     the id.
//
// A transaction PostgreSQL aborts for a deadlock or a serialization
// failure is run again, twice at most.
//
// # Failures
//
// Open connects and checks the file against the database: every statement
// must prepare and every item query must return the columns the file
// names. It reports every mismatch at once. Once open, a call that passes
// its timeout, or whose caller gives up, returns the context's error
// (context.DeadlineExceeded, context.Canceled); a database that cannot be
// reached or fails a statement is wsp.ErrUnavailable, with the database's
// message but not the statement. A refusal is a *wsp.Refusal naming the
// index of the write refused.
package sqlmap
