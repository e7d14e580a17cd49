-- Hospital A's back office: patients by patient number, laboratory results
-- with an update time, outpatient slots and their bookings. {ts}, {num}
-- and {serial} stand for the column types of the database under test.
CREATE TABLE patients (
	patient_no TEXT PRIMARY KEY,
	name       TEXT NOT NULL
);
CREATE TABLE lab_results (
	result_id    INTEGER PRIMARY KEY,
	patient_no   TEXT NOT NULL REFERENCES patients,
	collected_at {ts} NOT NULL,
	jlac10       TEXT NOT NULL,
	test_name    TEXT NOT NULL,
	result_value TEXT NOT NULL,
	unit         TEXT,
	ref_low      {num},
	ref_high     {num},
	dept         TEXT,
	updated_at   {ts} NOT NULL
);
CREATE TABLE slots (
	slot_id   INTEGER PRIMARY KEY,
	dept      TEXT NOT NULL,
	doctor    TEXT NOT NULL,
	starts_at {ts} NOT NULL,
	ends_at   {ts} NOT NULL,
	capacity  INTEGER NOT NULL,
	booked    INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0)
);
CREATE TABLE bookings (
	booking_id {serial},
	patient_no TEXT NOT NULL REFERENCES patients,
	slot_id    INTEGER NOT NULL REFERENCES slots,
	booked_at  {ts} NOT NULL,
	updated_at {ts} NOT NULL,
	status     TEXT NOT NULL DEFAULT 'booked'
);
