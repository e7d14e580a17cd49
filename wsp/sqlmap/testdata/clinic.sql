-- Clinic B's back office, shaped otherwise: patients have an internal key
-- and a card number (the local identifier), examinations hang off the
-- internal key, reference bounds are text and nothing records updates.
CREATE TABLE kanja (
	kanja_id    INTEGER PRIMARY KEY,
	shinsatsuken TEXT NOT NULL UNIQUE
);
CREATE TABLE kensa (
	kensa_no    TEXT PRIMARY KEY,
	kanja_id    INTEGER NOT NULL REFERENCES kanja,
	saishu_bi   {ts} NOT NULL,
	koumoku_cd  TEXT NOT NULL,
	koumoku_mei TEXT NOT NULL,
	kekka       TEXT NOT NULL,
	tani        TEXT,
	kagen       TEXT,
	jougen      TEXT,
	ka          TEXT
);
