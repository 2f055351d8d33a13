package org.fhirwall.demo;

import java.util.List;

/**
 * The word lists and code tables the synthetic hospital draws from. Immutable; the order of every
 * list is part of {@link SyntheticData}'s determinism, so entries are only ever appended.
 */
final class SyntheticVocabulary {

  static final String MRN_SYSTEM = "https://epr.demo.fhirwall.org/mrn";
  static final String NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8";
  static final String RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1";
  static final String LOINC = "http://loinc.org";
  static final String SNOMED = "http://snomed.info/sct";
  static final String RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm";
  static final String UCUM = "http://unitsofmeasure.org";
  static final String ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
  static final String OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category";
  static final String CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical";

  static final List<String> FAMILY = List.of(
      "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
      "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
      "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
      "Müller", "Lefebvre", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier",
      "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément", "Morin",
      "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval",
      "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun",
      "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier",
      "Arnaud", "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin",
      "Vidal", "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas",
      "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc",
      "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte", "Lopez", "Jean", "Smith", "Nguyen");

  static final List<String> GIVEN_FEMALE = List.of(
      "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Christine",
      "Monique", "Valérie", "Sandrine", "Sophie", "Céline", "Chantal", "Stéphanie", "Nicole",
      "Véronique", "Julie", "Aurélie", "Camille", "Emma", "Léa", "Chloé", "Manon", "Inès",
      "Jade", "Louise", "Zoé", "Alice", "Lina", "Anne", "Hélène", "Claire", "Élodie",
      "Mathilde", "Agnès", "Brigitte", "Jeanne", "Margaux", "Lucie", "Sarah");

  static final List<String> GIVEN_MALE = List.of(
      "Jean", "Philippe", "Michel", "Alain", "Patrick", "Nicolas", "Christophe", "Pierre",
      "Christian", "Éric", "Frédéric", "Laurent", "Stéphane", "David", "Pascal", "Daniel",
      "Julien", "Thomas", "Sébastien", "Olivier", "Lucas", "Hugo", "Louis", "Gabriel", "Léo",
      "Jules", "Arthur", "Adam", "Raphaël", "Paul", "Antoine", "Maxime", "Alexandre",
      "Mathieu", "François", "Bernard", "Guillaume", "Romain", "Vincent", "John");

  static final List<String> STREETS = List.of(
      "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta",
      "rue Pasteur", "place de la Mairie", "rue du Moulin", "chemin des Vignes",
      "rue de l'Église", "allée des Tilleuls", "avenue de la Gare", "rue des Écoles",
      "impasse des Lilas", "rue Nationale", "quai de la Loire", "rue Émile Zola");

  /** City, postal code pairs. */
  static final List<List<String>> CITIES = List.of(
      List.of("Paris", "75011"), List.of("Lyon", "69003"), List.of("Marseille", "13005"),
      List.of("Toulouse", "31000"), List.of("Nantes", "44000"), List.of("Lille", "59000"),
      List.of("Rennes", "35000"), List.of("Strasbourg", "67000"), List.of("Bordeaux", "33000"),
      List.of("Montpellier", "34000"), List.of("Nice", "06000"), List.of("Dijon", "21000"),
      List.of("Reims", "51100"), List.of("Angers", "49000"), List.of("Tours", "37000"),
      List.of("Limoges", "87000"), List.of("Brest", "29200"), List.of("Caen", "14000"));

  /** An observation kind: LOINC code, display, category, unit, low, high, decimals. */
  record ObservationKind(String code, String display, String category, String unit, double low,
      double high, int decimals) {}

  static final List<ObservationKind> OBSERVATIONS = List.of(
      new ObservationKind("8867-4", "Heart rate", "vital-signs", "/min", 48, 120, 0),
      new ObservationKind("8480-6", "Systolic blood pressure", "vital-signs", "mm[Hg]", 95, 175, 0),
      new ObservationKind("8462-4", "Diastolic blood pressure", "vital-signs", "mm[Hg]", 55, 105, 0),
      new ObservationKind("29463-7", "Body weight", "vital-signs", "kg", 45, 120, 1),
      new ObservationKind("8310-5", "Body temperature", "vital-signs", "Cel", 35.8, 39.5, 1),
      new ObservationKind("2339-0", "Glucose [Mass/volume] in Blood", "laboratory", "mg/dL", 65, 210, 0),
      new ObservationKind("718-7", "Hemoglobin [Mass/volume] in Blood", "laboratory", "g/dL", 9, 17.5, 1),
      new ObservationKind("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "laboratory", "mg/dL", 0.5, 2.4, 2),
      new ObservationKind("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "laboratory", "%", 4.5, 10.5, 1));

  /** A coded concept: system, code, display. */
  record Concept(String system, String code, String display) {}

  static final List<Concept> CONDITIONS = List.of(
      new Concept(SNOMED, "44054006", "Diabetes mellitus type 2"),
      new Concept(SNOMED, "38341003", "Hypertensive disorder"),
      new Concept(SNOMED, "195967001", "Asthma"),
      new Concept(SNOMED, "13645005", "Chronic obstructive lung disease"),
      new Concept(SNOMED, "49436004", "Atrial fibrillation"),
      new Concept(SNOMED, "35489007", "Depressive disorder"),
      new Concept(SNOMED, "709044004", "Chronic kidney disease"),
      new Concept(SNOMED, "84114007", "Heart failure"),
      new Concept(SNOMED, "69896004", "Rheumatoid arthritis"),
      new Concept(SNOMED, "363406005", "Malignant neoplasm of colon"));

  static final List<Concept> MEDICATIONS = List.of(
      new Concept(RXNORM, "860975", "Metformin hydrochloride 500 MG Oral Tablet"),
      new Concept(RXNORM, "197361", "Amlodipine 5 MG Oral Tablet"),
      new Concept(RXNORM, "314076", "Lisinopril 10 MG Oral Tablet"),
      new Concept(RXNORM, "745679", "Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler"),
      new Concept(RXNORM, "855332", "Warfarin Sodium 5 MG Oral Tablet"),
      new Concept(RXNORM, "312938", "Sertraline 50 MG Oral Tablet"),
      new Concept(RXNORM, "310798", "Hydrochlorothiazide 25 MG Oral Tablet"),
      new Concept(RXNORM, "617312", "Atorvastatin 10 MG Oral Tablet"),
      new Concept(RXNORM, "198211", "Simvastatin 40 MG Oral Tablet"),
      new Concept(RXNORM, "313782", "Acetaminophen 325 MG Oral Tablet"));

  static final List<Concept> ENCOUNTER_CLASSES = List.of(
      new Concept(ACT_CODE, "AMB", "ambulatory"),
      new Concept(ACT_CODE, "IMP", "inpatient encounter"),
      new Concept(ACT_CODE, "EMER", "emergency"));

  static final List<Concept> DOCUMENT_TYPES = List.of(
      new Concept(LOINC, "18842-5", "Discharge summary"),
      new Concept(LOINC, "11506-3", "Progress note"),
      new Concept(LOINC, "11488-4", "Consult note"));

  /** Organization name and kind (for the demo's three organizations). */
  static final List<String> ORGANIZATIONS = List.of(
      "Centre Hospitalier Universitaire de Démo", "Clinique du Parc", "Laboratoire Bio-Démo");

  private SyntheticVocabulary() {}
}
