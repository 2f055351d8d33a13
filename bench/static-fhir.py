#!/usr/bin/env python3
"""Writes the fast EPR's fixed answers: a Patient (~0.8 KB) and a 50-entry searchset of Patients
(~43 KB) whose fullUrls and links name BASE, as an EPR's would. Usage: static-fhir.py BASE DIR"""
import json, os, sys

base, out = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(os.path.join(out, "fhir"), exist_ok=True)

def patient(i):
    return {"resourceType": "Patient", "id": "p%d" % i,
            "meta": {"versionId": "1", "lastUpdated": "2026-11-20T10:00:00.000+00:00"},
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Patient %d</div>" % i},
            "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.7", "value": "MRN%07d" % i},
                           {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "1%014d" % (i * 7919)}],
            "active": True, "name": [{"use": "official", "family": "Family%d" % i, "given": ["Given%d" % i, "Second"]}],
            "telecom": [{"system": "phone", "value": "+33 1 23 45 %02d %02d" % (i % 100, (i * 7) % 100), "use": "home"}],
            "gender": "female" if i % 2 else "male", "birthDate": "19%02d-%02d-%02d" % (40 + i % 60, 1 + i % 12, 1 + i % 28),
            "address": [{"line": ["%d rue de la Paix" % i], "city": "Paris", "postalCode": "750%02d" % (i % 20), "country": "FR"}],
            "generalPractitioner": [{"reference": "Practitioner/gp%d" % (i % 7)}],
            "managingOrganization": {"reference": "Organization/o1"}}

with open(os.path.join(out, "fhir", "patient.json"), "w") as f:
    json.dump(patient(1), f, separators=(",", ":"))
bundle = {"resourceType": "Bundle", "id": "search-1", "meta": {"lastUpdated": "2026-11-20T10:00:00.000+00:00"},
          "type": "searchset", "total": 500,
          "link": [{"relation": "self", "url": base + "/Patient?_count=50"},
                   {"relation": "next", "url": base + "?_getpages=search-1&_getpagesoffset=50&_count=50&_bundletype=searchset"}],
          "entry": [{"fullUrl": base + "/Patient/p%d" % i, "resource": patient(i), "search": {"mode": "match"}}
                    for i in range(1, 51)]}
with open(os.path.join(out, "fhir", "search.json"), "w") as f:
    json.dump(bundle, f, separators=(",", ":"))
