BEGIN TRANSACTION;
CREATE TABLE alerts (
	id INTEGER NOT NULL, 
	"key" VARCHAR(300) NOT NULL, 
	kind VARCHAR(40) NOT NULL, 
	channel VARCHAR(20), 
	post_id VARCHAR(200), 
	message TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	delivered_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO "alerts" VALUES(1,'warning:2026-09-15-demokrati:instagram:first comment','warning','instagram','2026-09-15-demokrati','2026-09-15-demokrati on instagram is online, but: the first comment was not posted','2026-09-15 08:00:03.000000','2026-09-15 08:01:00.000000');
INSERT INTO "alerts" VALUES(2,'failed:2026-09-16-bibliotek:facebook','failed','facebook','2026-09-16-bibliotek','2026-09-16-bibliotek was not published on facebook: the photo could not be read','2026-09-16 08:02:01.000000',NULL);
INSERT INTO "alerts" VALUES(3,'unknown:2026-09-17-kultur:instagram','unknown','instagram','2026-09-17-kultur','2026-09-17-kultur on instagram: whether it went out is not known yet','2026-09-17 08:05:00.000000',NULL);
INSERT INTO "alerts" VALUES(4,'missed:2026-09-20-marknad:instagram','missed','instagram','2026-09-20-marknad','2026-09-20-marknad was due on instagram but could not go out in time','2026-09-20 11:00:00.000000',NULL);
INSERT INTO "alerts" VALUES(5,'paused:instagram','paused','instagram',NULL,'instagram is paused: nothing more is sent there until a human acts.','2026-09-19 08:00:00.000000',NULL);
CREATE TABLE attempts (
	id INTEGER NOT NULL, 
	publication_id INTEGER NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	outcome VARCHAR(20), 
	error_class VARCHAR(20), 
	platform_code VARCHAR(40), 
	platform_subcode VARCHAR(40), 
	message TEXT, 
	claimed_by VARCHAR(200), 
	PRIMARY KEY (id), 
	FOREIGN KEY(publication_id) REFERENCES publications (id)
);
INSERT INTO "attempts" VALUES(1,1,'publish','2026-09-15 08:00:00.000000','2026-09-15 08:00:02.000000','published',NULL,NULL,NULL,NULL,'kampanj-01:4242:9f3c');
INSERT INTO "attempts" VALUES(2,2,'publish','2026-09-15 08:00:00.000000','2026-09-15 08:00:02.000000','published',NULL,NULL,NULL,NULL,'kampanj-01:4242:9f3c');
INSERT INTO "attempts" VALUES(3,3,'publish','2026-09-16 08:00:00.000000','2026-09-16 08:00:31.000000','retry','transient','2',NULL,'Facebook is temporarily unavailable','kampanj-01:4242:9f3c');
INSERT INTO "attempts" VALUES(4,3,'publish','2026-09-16 08:02:00.000000','2026-09-16 08:02:01.000000','failed','permanent','324','2069019','the photo could not be read (code 324)','kampanj-01:4242:9f3c');
INSERT INTO "attempts" VALUES(5,4,'publish','2026-09-17 08:00:00.000000','2026-09-17 08:05:00.000000','unknown','unknown',NULL,NULL,'no answer within 60 s','kampanj-01:4242:9f3c');
INSERT INTO "attempts" VALUES(6,5,'publish','2026-09-18 08:00:00.000000',NULL,NULL,NULL,NULL,NULL,NULL,'kampanj-01:4242:9f3c');
INSERT INTO "attempts" VALUES(7,9,'publish','2026-09-15 08:00:00.000000','2026-09-15 08:00:00.000000','published',NULL,NULL,NULL,NULL,'kampanj-01:4242:9f3c');
CREATE TABLE channel_states (
	channel VARCHAR(20) NOT NULL, 
	paused_reason TEXT, 
	paused_at DATETIME, 
	last_auth_check_at DATETIME, 
	cooldown_until DATETIME, 
	cooldown_reason TEXT, 
	PRIMARY KEY (channel)
);
INSERT INTO "channel_states" VALUES('facebook',NULL,NULL,NULL,'2026-09-19 09:00:00.000000','rate limited (code 4)');
INSERT INTO "channel_states" VALUES('instagram','the session has expired: log in again','2026-09-19 08:00:00.000000','2026-09-19 08:00:00.000000',NULL,NULL);
CREATE TABLE heartbeats (
	name VARCHAR(40) NOT NULL, 
	holder VARCHAR(200) NOT NULL, 
	mode VARCHAR(20) NOT NULL, 
	started_at DATETIME NOT NULL, 
	beat_at DATETIME NOT NULL, 
	stopped_at DATETIME, 
	next_due_at DATETIME, 
	jobs INTEGER NOT NULL, 
	PRIMARY KEY (name)
);
INSERT INTO "heartbeats" VALUES('daemon','kampanj-01:4242:9f3c','live','2026-09-14 08:00:00.000000','2026-09-20 11:00:00.000000',NULL,'2026-10-01 08:00:00.000000',2);
CREATE TABLE publications (
	id INTEGER NOT NULL, 
	post_id VARCHAR(200) NOT NULL, 
	channel VARCHAR(20) NOT NULL, 
	mode VARCHAR(10) NOT NULL, 
	language VARCHAR(20), 
	tags VARCHAR(500), 
	state VARCHAR(20) NOT NULL, 
	due_at DATETIME NOT NULL, 
	next_attempt_at DATETIME, 
	attempt_count INTEGER NOT NULL, 
	fingerprint VARCHAR(64), 
	caption TEXT, 
	media_json TEXT, 
	link TEXT, 
	first_comment TEXT, 
	remote_id VARCHAR(200), 
	url TEXT, 
	claimed_at DATETIME, 
	claimed_by VARCHAR(200), 
	published_at DATETIME, 
	last_error TEXT, 
	warnings TEXT, 
	sampling_stopped TEXT, 
	updated_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_publication_post_channel_mode UNIQUE (post_id, channel, mode)
);
INSERT INTO "publications" VALUES(1,'2026-09-15-demokrati','facebook','live','sv',',demokrati,val,','published','2026-09-15 08:00:00.000000',NULL,1,'bdd086051c879a8775c27853c13b0e103b89b938f3f3b57ed7e076bec98fb561','Idag är det demokratins dag.
#demokrati100','[{"file": "2026-09-15-demokrati-facebook.jpg", "alt": "Bild till 2026-09-15-demokrati", "sha256": "0550dc74f260991adbb06247efb1cf6bb325f23a51027c49e5ea0b8f3ed13521"}]','https://www.sodertalje.se/demokrati',NULL,'facebook-1789_2026','https://www.facebook.com/p/1789_2026','2026-09-15 08:00:00.000000','kampanj-01:4242:9f3c','2026-09-15 08:00:02.000000',NULL,NULL,NULL,'2026-09-15 08:00:02.000000');
INSERT INTO "publications" VALUES(2,'2026-09-15-demokrati','instagram','live','sv',',demokrati,val,','published','2026-09-15 08:00:00.000000',NULL,1,'1749f766a0fed13861a00397f8175daf6ef53b2aa66143a8a26ef43c119bbb01','Idag är det demokratins dag.
#demokrati100','[{"file": "2026-09-15-demokrati-instagram.jpg", "alt": "Bild till 2026-09-15-demokrati", "sha256": "b16f2c0453d8e9a88c2643c4dc76ba094b405149228fd8ee9a367aa4c8b99e49"}]',NULL,'Läs mer på sodertalje.se/demokrati','instagram-1789_2026','https://www.instagram.com/p/1789_2026','2026-09-15 08:00:00.000000','kampanj-01:4242:9f3c','2026-09-15 08:00:02.000000',NULL,NULL,NULL,'2026-09-15 08:00:02.000000');
INSERT INTO "publications" VALUES(3,'2026-09-16-bibliotek','facebook','live','sv',NULL,'failed','2026-09-16 08:00:00.000000',NULL,2,'b07e701417482109b7945ac334e6b0f5e7888aa509ad109cb2a8291fdc1e441d','Bibblan!','[{"file": "2026-09-16-bibliotek-facebook.jpg", "alt": "Bild till 2026-09-16-bibliotek", "sha256": "e5968512ba6d7fd56f40ef9aa4a26f1f1763659d8e1c41caf97fdbda15b43dca"}]',NULL,NULL,NULL,NULL,'2026-09-16 08:02:00.000000','kampanj-01:4242:9f3c',NULL,'the photo could not be read (code 324)',NULL,NULL,'2026-09-16 08:02:01.000000');
INSERT INTO "publications" VALUES(4,'2026-09-17-kultur','instagram','live','sv',NULL,'unknown','2026-09-17 08:00:00.000000',NULL,1,'404baa01861dffb71d28bdad021a9db99b949003fdc3ea79f00e3a1f99d390b2','Kulturnatten','[{"file": "2026-09-17-kultur-instagram.jpg", "alt": "Bild till 2026-09-17-kultur", "sha256": "d98983af535591be44f54f7f9e43326f7974fdae040da09b20b9ce799edffaaf"}]',NULL,NULL,NULL,NULL,'2026-09-17 08:00:00.000000','kampanj-01:4242:9f3c',NULL,'no answer within 60 s',NULL,NULL,'2026-09-17 08:05:00.000000');
INSERT INTO "publications" VALUES(5,'2026-09-18-ungdom','facebook','live','sv',NULL,'publishing','2026-09-18 08:00:00.000000',NULL,1,'042b80a107c2e89dc3a06c4ba3152debd6d413dcfbba3a4a847b4645dd2e2e41','Fritidsgården öppnar','[{"file": "2026-09-18-ungdom-facebook.jpg", "alt": "Bild till 2026-09-18-ungdom", "sha256": "a1a616a2480be5c476888f1a10bca20eddb20dedf3d5395717c240ece333a282"}]',NULL,NULL,NULL,NULL,'2026-09-18 08:00:00.000000','kampanj-01:4242:9f3c',NULL,NULL,NULL,NULL,'2026-09-18 08:00:00.000000');
INSERT INTO "publications" VALUES(6,'2026-09-19-raddning','facebook','live','sv',NULL,'scheduled','2026-09-19 08:00:00.000000','2026-09-19 08:30:00.000000',0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'2026-09-19 08:00:00.000000');
INSERT INTO "publications" VALUES(7,'2026-10-01-hosten','instagram','live',NULL,NULL,'scheduled','2026-10-01 08:00:00.000000',NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'2026-09-14 08:00:00.000000');
INSERT INTO "publications" VALUES(8,'2026-09-20-marknad','instagram','live',NULL,NULL,'missed','2026-09-20 08:00:00.000000',NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'missed: more than 2 h late',NULL,NULL,'2026-09-20 11:00:00.000000');
INSERT INTO "publications" VALUES(9,'2026-09-15-demokrati','facebook','dry_run','sv',NULL,'published','2026-09-15 08:00:00.000000',NULL,1,'0b8d09672b0dc3fd9adf1a17a63c47d7f24c0561ad42137347759ed9c8b77545','Repetition','[{"file": "2026-09-15-demokrati-facebook.jpg", "alt": "Bild till 2026-09-15-demokrati", "sha256": "0550dc74f260991adbb06247efb1cf6bb325f23a51027c49e5ea0b8f3ed13521"}]',NULL,NULL,'outbox-0001',NULL,'2026-09-15 08:00:00.000000','kampanj-01:4242:9f3c','2026-09-15 08:00:00.000000',NULL,NULL,NULL,'2026-09-15 08:00:00.000000');
CREATE TABLE samples (
	id INTEGER NOT NULL, 
	publication_id INTEGER NOT NULL, 
	taken_at DATETIME NOT NULL, 
	age_seconds INTEGER NOT NULL, 
	target_age_seconds INTEGER NOT NULL, 
	reactions INTEGER, 
	comments INTEGER, 
	shares INTEGER, 
	saves INTEGER, 
	views INTEGER, 
	reach INTEGER, 
	clicks INTEGER, 
	raw_json TEXT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_sample_age UNIQUE (publication_id, target_age_seconds), 
	FOREIGN KEY(publication_id) REFERENCES publications (id)
);
INSERT INTO "samples" VALUES(1,1,'2026-09-15 09:00:40.000000',3638,3600,12,2,1,NULL,168,108,3,'{"likes": 12}');
INSERT INTO "samples" VALUES(2,1,'2026-09-16 08:00:40.000000',86438,86400,57,9,5,NULL,798,513,14,'{"likes": 57}');
INSERT INTO "samples" VALUES(3,2,'2026-09-15 09:00:40.000000',3638,3600,12,2,NULL,1,168,108,NULL,'{"likes": 12}');
INSERT INTO "samples" VALUES(4,2,'2026-09-16 08:00:40.000000',86438,86400,57,9,NULL,7,798,513,NULL,'{"likes": 57}');
CREATE TABLE store_info (
	"key" VARCHAR(40) NOT NULL, 
	value VARCHAR(200) NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "store_info" VALUES('schema_version','1');
CREATE INDEX ix_publications_published ON publications (state, mode, published_at, id);
CREATE INDEX ix_publications_state_next ON publications (state, next_attempt_at);
CREATE INDEX ix_alerts_key ON alerts ("key");
CREATE INDEX ix_attempts_publication_id ON attempts (publication_id);
CREATE INDEX ix_samples_publication_taken ON samples (publication_id, taken_at, id);
COMMIT;
