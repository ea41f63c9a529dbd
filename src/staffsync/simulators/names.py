"""The fixed vocabulary of the simulated company: people's names, places and the organisation chart.

Templates use `#` for a random digit and `@` for a random letter. Phone numbers stay inside ranges
reserved for fiction where a country has one (Ofcom's 07700 900xxx and 020 7946 0xxx, the North
American 555-01xx), and personal emails use the IANA example domains, so simulated data can never
reach a real person.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class City:
    name: str
    region: str
    postal_codes: tuple[str, ...]
    # Only cities with an office have a switchboard; its template gives the work phone numbers.
    office_phone: str | None = None


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    entity_name: str
    # Relative share of the workforce employed by this country's legal entity.
    weight: float
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    # Spanish people usually carry both parents' surnames: this is the share who get two.
    double_surname_share: float
    streets: tuple[str, ...]
    street_format: str
    cities: tuple[City, ...]
    mobile_phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TeamSpec:
    name: str
    titles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DepartmentSpec:
    name: str
    weight: float
    head_title: str
    lead_title: str
    teams: tuple[TeamSpec, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


GERMANY = Country(
    code="DE",
    entity_name="Acme GmbH",
    weight=0.30,
    first_names=_words(
        "Anna, Lena, Hannah, Sophie, Marie, Emma, Mia, Laura, Julia, Katharina, Johanna, Franziska, Jana, "
        "Sabine, Claudia, Petra, Ursula, Dörte, Jördis, Käthe, Ayşe, Elif, Lukas, Jonas, Leon, Finn, Paul, "
        "Felix, Maximilian, Tobias, Jan, Niklas, Florian, Sebastian, Stefan, Michael, Thomas, Andreas, "
        "Matthias, Jürgen, Björn, Jörg, Günther, Uwe, Dieter, Klaus, Moritz, Philipp, Mehmet, Emre"
    ),
    last_names=_words(
        "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, Schäfer, Koch, "
        "Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Braun, Krüger, Hartmann, "
        "Lange, Schmitt, Werner, Krause, Meier, Lehmann, Köhler, Herrmann, König, Walter, Huber, Kaiser, "
        "Fuchs, Peters, Scholz, Möller, Weiß, Jung, Hahn, Vogel, Friedrich, Keller, Günther, Böhm, Roth, "
        "Baumann, Lorenz, von Arnim, von der Heide, "
        "Yılmaz, Öztürk"  # noqa: RUF001 - the Turkish dotless i is wanted: it has no ASCII decomposition
    ),
    double_surname_share=0.0,
    streets=_words(
        "Hauptstraße, Lindenstraße, Schillerstraße, Goethestraße, Bahnhofstraße, Gartenweg, "
        "Friedrichstraße, Kastanienallee, Schönhauser Allee, Sonnenallee, Karl-Marx-Straße, "
        "Bergmannstraße, Torstraße, Am Rosengarten, Mühlenweg"
    ),
    street_format="{street} {number}",
    cities=(
        City("Berlin", "Berlin", ("10###", "12###", "13###"), office_phone="+49 30 5200 4###"),
        City("München", "Bayern", ("80###", "81###"), office_phone="+49 89 2190 3###"),
        City("Hamburg", "Hamburg", ("20###", "22###"), office_phone="+49 40 6009 1###"),
        City("Köln", "Nordrhein-Westfalen", ("50###", "51###")),
        City("Frankfurt am Main", "Hessen", ("60###",)),
        City("Leipzig", "Sachsen", ("04###",)),
        City("Düsseldorf", "Nordrhein-Westfalen", ("40###",)),
        City("Potsdam", "Brandenburg", ("14###",)),
    ),
    mobile_phones=("+49 151 ########", "+49 160 #######", "+49 170 #######", "+49 176 ########"),
)

FRANCE = Country(
    code="FR",
    entity_name="Acme SAS",
    weight=0.15,
    first_names=_words(
        "Camille, Léa, Manon, Chloé, Inès, Jade, Louise, Zoé, Renée, Hélène, Élodie, Céline, Amélie, "
        "Margaux, Aurélie, Mathilde, Clémence, Juliette, Noémie, Anaïs, Gaëlle, Océane, Agnès, "
        "Marie-Claire, Anne-Sophie, Lucas, Hugo, Louis, Gabriel, Arthur, Jules, Raphaël, Théo, Nathan, "
        "Léo, Nicolas, Julien, Antoine, Maxime, Guillaume, Jérôme, François, Stéphane, Sébastien, Benoît, "
        "Frédéric, Loïc, Jean-Pierre, Jean-Luc, Gaël, Noël, Karim, Yasmine"
    ),
    last_names=_words(
        "Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, Simon, Laurent, "
        "Lefèvre, Michel, Garcia, David, Bertrand, Roux, Vincent, Fournier, Morel, Girard, André, Mercier, "
        "Dupont, Lambert, Bonnet, Legrand, Garnier, Faure, Rousseau, Blanc, Guérin, Henry, Perrin, Morin, "
        "Mathieu, Clément, Gauthier, Fontaine, Chevalier, Gérard, Nguyen, Lemaire, Duval, Noël, Pérez, "
        "Marchand, Rivière, Prévost, Ménard, Le Gall, Le Goff, Da Silva, Benali, Carré"
    ),
    double_surname_share=0.0,
    streets=_words(
        "rue de la Paix, rue Victor Hugo, avenue des Champs-Élysées, boulevard Saint-Germain, "
        "rue de Rivoli, rue du Faubourg Saint-Antoine, rue Oberkampf, place de la République, "
        "rue La Fayette, avenue Jean Jaurès, rue de la Roquette, quai de Valmy, rue des Écoles, "
        "impasse des Lilas"
    ),
    street_format="{number} {street}",
    cities=(
        City("Paris", "Île-de-France", ("750##",), office_phone="+33 1 86 95 ## ##"),
        City("Lyon", "Auvergne-Rhône-Alpes", ("6900#",), office_phone="+33 4 28 29 ## ##"),
        City("Marseille", "Provence-Alpes-Côte d'Azur", ("130##",)),
        City("Toulouse", "Occitanie", ("310##",)),
        City("Nantes", "Pays de la Loire", ("440##",)),
        City("Bordeaux", "Nouvelle-Aquitaine", ("330##",)),
        City("Montreuil", "Île-de-France", ("93100",)),
        City("Lille", "Hauts-de-France", ("590##",)),
    ),
    mobile_phones=("+33 6 ## ## ## ##", "+33 7 ## ## ## ##"),
)

BRITAIN = Country(
    code="GB",
    entity_name="Acme Ltd",
    weight=0.15,
    first_names=_words(
        "Oliver, George, Harry, Jack, Charlie, Oscar, William, James, Henry, Alfie, Archie, Joshua, "
        "Freddie, Ethan, Samuel, Daniel, Callum, Rhys, Owen, Dylan, Connor, Rohan, Arjun, Olivia, Amelia, "
        "Isla, Ava, Emily, Isabella, Poppy, Ella, Lily, Evie, Grace, Sophie, Charlotte, Jessica, Chloe, "
        "Ruby, Phoebe, Eleanor, Harriet, Imogen, Niamh, Siobhan, Aoife, Priya, Aisha, Zara"
    ),
    last_names=_words(
        "Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Robinson, Wright, Thompson, "
        "Evans, Walker, White, Roberts, Green, Hall, Wood, Jackson, Clarke, Patel, Khan, Lewis, Phillips, "
        "Mitchell, Hughes, Edwards, Turner, Harris, Cooper, King, Baker, Hill, Scott, Ward, Watson, Young, "
        "O'Brien, O'Connor, McDonald, MacLeod, Fitzgerald, Smith-Jones, Bowes-Lyon, Ahmed, Singh, "
        "Campbell, Stewart, Murray, Anderson, Okafor"
    ),
    double_surname_share=0.0,
    streets=_words(
        "High Street, Station Road, Church Lane, Victoria Road, Green Lane, Manor Road, Park Avenue, "
        "Kings Road, Queen's Road, Mill Lane, The Crescent, Albert Street, Baker Street"
    ),
    street_format="{number} {street}",
    cities=(
        City(
            "London",
            "England",
            ("SW1A #@@", "EC1V #@@", "N1 #@@", "SE15 #@@", "E8 #@@"),
            office_phone="+44 20 7946 0###",
        ),
        City("Manchester", "England", ("M1 #@@", "M20 #@@"), office_phone="+44 161 496 0###"),
        City("Edinburgh", "Scotland", ("EH1 #@@", "EH6 #@@")),
        City("Bristol", "England", ("BS1 #@@", "BS6 #@@")),
        City("Cardiff", "Wales", ("CF10 #@@",)),
        City("Leeds", "England", ("LS1 #@@", "LS6 #@@")),
        City("Belfast", "Northern Ireland", ("BT1 #@@",)),
    ),
    mobile_phones=("+44 7700 900###",),
)

UNITED_STATES = Country(
    code="US",
    entity_name="Acme Inc.",
    weight=0.25,
    first_names=_words(
        "James, Michael, Robert, John, David, William, Richard, Joseph, Christopher, Matthew, Anthony, "
        "Andrew, Kevin, Brian, Tyler, Brandon, Austin, DeShawn, Jamal, Carlos, Luis, Wei, Hiroshi, Raj, "
        "Mary, Patricia, Jennifer, Linda, Elizabeth, Barbara, Susan, Jessica, Sarah, Karen, Emily, Ashley, "
        "Madison, Hannah, Abigail, Megan, Kayla, Taylor, Jordan, Aaliyah, Imani, María, Sofía, Mei, Ngozi"
    ),
    last_names=_words(
        "Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez, Hernandez, "
        "Lopez, Gonzalez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin, Lee, Perez, Thompson, "
        "White, Harris, Sanchez, Clark, Ramirez, Lewis, Robinson, Walker, Young, Allen, King, Wright, "
        "Scott, Torres, Nguyen, Hill, Flores, Green, Adams, Nelson, Baker, Rivera, Campbell, Mitchell, "
        "Carter, Kim, Chen, Patel, O'Neil, McCarthy, Washington, Kowalski, Rosenberg, DeLuca"
    ),
    double_surname_share=0.0,
    streets=_words(
        "Main Street, Maple Avenue, Oak Street, Elm Street, Washington Avenue, Park Avenue, 2nd Street, "
        "Cedar Lane, Sunset Boulevard, Lakeview Drive, Pine Street, Highland Avenue, Mission Street, "
        "Congress Avenue"
    ),
    street_format="{number} {street}",
    cities=(
        City("New York", "NY", ("100##", "101##"), office_phone="+1 212 555 01##"),
        City("San Francisco", "CA", ("941##",), office_phone="+1 415 555 01##"),
        City("Austin", "TX", ("787##",), office_phone="+1 512 555 01##"),
        City("Brooklyn", "NY", ("112##",)),
        City("Oakland", "CA", ("946##",)),
        City("Chicago", "IL", ("606##",)),
        City("Seattle", "WA", ("981##",)),
        City("Boston", "MA", ("021##",)),
        City("Denver", "CO", ("802##",)),
    ),
    mobile_phones=("+1 212 555 01##", "+1 415 555 01##", "+1 646 555 01##", "+1 737 555 01##"),
)

NETHERLANDS = Country(
    code="NL",
    entity_name="Acme B.V.",
    weight=0.08,
    first_names=_words(
        "Daan, Sem, Levi, Finn, Milan, Bram, Thijs, Jesse, Ruben, Sven, Lars, Joost, Bas, Pieter, Maarten, "
        "Willem, Jeroen, Sander, Niels, Stijn, Koen, Teun, Gijs, Mohammed, Emma, Julia, Tess, Sophie, Zoë, "
        "Sara, Eva, Anna, Lotte, Fleur, Sanne, Lieke, Femke, Anouk, Ilse, Marloes, Mirjam, Ingrid, Noor, "
        "Fenna, Saskia, Eline, Yara, Fatima"
    ),
    last_names=_words(
        "de Jong, Jansen, de Vries, van den Berg, van der Berg, van Dijk, Bakker, Janssen, Visser, Smit, "
        "Meijer, de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker, Brouwer, "
        "de Wit, Dijkstra, Smits, de Graaf, van der Meer, van der Linden, Kok, Jacobs, de Haan, Vermeulen, "
        "van den Heuvel, van der Veen, van den Broek, de Bruijn, van der Heijden, Schouten, van Beek, "
        "Willems, van Vliet, van de Ven, Hoekstra, Maas, Verhoeven, Koster, van Dam, van der Wal, Prins, "
        "Blom, Huisman, 't Hart, Postma, Kuiper, Veenstra, Kramer, Scholten"
    ),
    double_surname_share=0.0,
    streets=_words(
        "Kerkstraat, Dorpsstraat, Prinsengracht, Keizersgracht, Herengracht, Stationsweg, Molenweg, "
        "Julianastraat, Wilhelminastraat, Schoolstraat, Marktplein, Nieuwe Binnenweg, Oudegracht"
    ),
    street_format="{street} {number}",
    cities=(
        City("Amsterdam", "Noord-Holland", ("10## @@",), office_phone="+31 20 794 0###"),
        City("Rotterdam", "Zuid-Holland", ("30## @@",)),
        City("Utrecht", "Utrecht", ("35## @@",)),
        City("Den Haag", "Zuid-Holland", ("25## @@",)),
        City("Haarlem", "Noord-Holland", ("20## @@",)),
        City("Eindhoven", "Noord-Brabant", ("56## @@",)),
    ),
    mobile_phones=("+31 6 #### ####",),
)

SPAIN = Country(
    code="ES",
    entity_name="Acme España S.L.",
    weight=0.07,
    first_names=_words(
        "Lucía, Sofía, María, Martina, Paula, Daniela, Valeria, Alba, Carmen, Laura, Marta, Elena, Irene, "
        "Ainhoa, Nerea, Begoña, Inés, Pilar, Rocío, Ángela, Noelia, María José, Ana Belén, Hugo, Martín, "
        "Pablo, Alejandro, Adrián, Álvaro, Diego, Mario, Javier, Sergio, Iker, Jorge, Raúl, Rubén, Íñigo, "
        "Joaquín, Jesús, José, Juan, Manuel, Antonio, Francisco, Carlos, Miguel Ángel, José Luis"
    ),
    last_names=_words(
        "García, Rodríguez, González, Fernández, López, Martínez, Sánchez, Pérez, Gómez, Martín, Jiménez, "
        "Ruiz, Hernández, Díaz, Moreno, Muñoz, Álvarez, Romero, Alonso, Gutiérrez, Navarro, Torres, "
        "Domínguez, Vázquez, Ramos, Gil, Ramírez, Serrano, Blanco, Molina, Morales, Suárez, Ortega, "
        "Delgado, Castro, Ortiz, Rubio, Marín, Sanz, Núñez, Iglesias, Medina, Garrido, Cortés, Castillo, "
        "Santos, Lozano, Méndez, Peña, Ibáñez, Durán, Sáez, de la Fuente, del Río"
    ),
    double_surname_share=0.7,
    streets=_words(
        "Calle Mayor, Calle de Alcalá, Gran Vía, Paseo de la Castellana, Calle de Serrano, "
        "Avinguda Diagonal, Carrer de Balmes, Calle Real, Plaza de España, Calle del Sol, "
        "Avenida de la Constitución, Calle de Atocha, Rambla de Catalunya"
    ),
    street_format="{street}, {number}",
    cities=(
        City("Madrid", "Comunidad de Madrid", ("280##",), office_phone="+34 91 123 4###"),
        City("Barcelona", "Cataluña", ("080##",), office_phone="+34 93 220 1###"),
        City("Valencia", "Comunitat Valenciana", ("460##",)),
        City("Sevilla", "Andalucía", ("410##",)),
        City("Bilbao", "País Vasco", ("480##",)),
        City("Málaga", "Andalucía", ("290##",)),
        City("Zaragoza", "Aragón", ("500##",)),
    ),
    mobile_phones=("+34 6## ### ###", "+34 7## ### ###"),
)

# In the order a growing company opens entities: headquarters first.
COUNTRIES: tuple[Country, ...] = (GERMANY, FRANCE, BRITAIN, UNITED_STATES, NETHERLANDS, SPAIN)

PERSONAL_EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")

MANAGEMENT = DepartmentSpec(
    name="Management",
    weight=0.5,
    head_title="Chief Executive Officer",
    lead_title="Chief Executive Officer",
    teams=(TeamSpec("Executive Office", ("Chief of Staff", "Executive Assistant", "Office Manager")),),
)

# In the order a growing company staffs them.
DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec(
        "Engineering",
        30,
        "VP Engineering",
        "Engineering Manager",
        (
            TeamSpec("Platform", ("Software Engineer", "Senior Software Engineer", "Staff Engineer")),
            TeamSpec("Payments", ("Backend Engineer", "Senior Backend Engineer", "Software Engineer")),
            TeamSpec("Mobile", ("iOS Engineer", "Android Engineer", "Senior Mobile Engineer")),
            TeamSpec("Data", ("Data Engineer", "Data Scientist", "Analytics Engineer")),
            TeamSpec("Security", ("Security Engineer", "Application Security Engineer")),
            TeamSpec("Infrastructure", ("Site Reliability Engineer", "DevOps Engineer", "Cloud Engineer")),
            TeamSpec("Frontend", ("Frontend Engineer", "Senior Frontend Engineer")),
            TeamSpec("Quality", ("QA Engineer", "Test Automation Engineer")),
            TeamSpec("Integrations", ("Software Engineer", "Integration Engineer")),
        ),
    ),
    DepartmentSpec(
        "Sales",
        18,
        "VP Sales",
        "Sales Manager",
        (
            TeamSpec("Enterprise Sales", ("Enterprise Account Executive", "Senior Account Executive")),
            TeamSpec("Mid-Market Sales", ("Account Executive", "Senior Account Executive")),
            TeamSpec("Sales Development", ("Sales Development Representative", "Business Development Rep")),
            TeamSpec("Solutions Engineering", ("Solutions Engineer", "Senior Solutions Engineer")),
            TeamSpec("Partnerships", ("Partner Manager", "Channel Sales Manager")),
        ),
    ),
    DepartmentSpec(
        "Customer Success",
        12,
        "VP Customer Success",
        "Customer Success Lead",
        (
            TeamSpec("Support", ("Support Specialist", "Technical Support Engineer")),
            TeamSpec("Onboarding", ("Onboarding Specialist", "Implementation Manager")),
            TeamSpec("Account Management", ("Customer Success Manager", "Account Manager")),
        ),
    ),
    DepartmentSpec(
        "Product",
        8,
        "VP Product",
        "Group Product Manager",
        (
            TeamSpec("Core Product", ("Product Manager", "Senior Product Manager")),
            TeamSpec("Design", ("Product Designer", "UX Designer", "UI Designer")),
            TeamSpec("User Research", ("UX Researcher", "Senior UX Researcher")),
            TeamSpec("Growth", ("Growth Product Manager", "Product Analyst")),
        ),
    ),
    DepartmentSpec(
        "Marketing",
        6,
        "Chief Marketing Officer",
        "Marketing Manager",
        (
            TeamSpec("Brand", ("Brand Designer", "Brand Manager", "Copywriter")),
            TeamSpec("Demand Generation", ("Demand Generation Manager", "Marketing Operations Specialist")),
            TeamSpec("Product Marketing", ("Product Marketing Manager",)),
            TeamSpec("Content", ("Content Marketing Manager", "Content Writer", "Video Producer")),
        ),
    ),
    DepartmentSpec(
        "Operations",
        5,
        "Chief Operating Officer",
        "Operations Manager",
        (
            TeamSpec("Business Operations", ("Business Operations Analyst", "Strategy Associate")),
            TeamSpec("Revenue Operations", ("Revenue Operations Analyst", "Sales Operations Manager")),
        ),
    ),
    DepartmentSpec(
        "Finance",
        4,
        "Chief Financial Officer",
        "Finance Manager",
        (
            TeamSpec("Accounting", ("Accountant", "Senior Accountant", "Accounts Payable Specialist")),
            TeamSpec("FP&A", ("Financial Analyst", "Senior Financial Analyst")),
            TeamSpec("Payroll", ("Payroll Specialist",)),
        ),
    ),
    DepartmentSpec(
        "People",
        4,
        "Chief People Officer",
        "People Lead",
        (
            TeamSpec("Talent Acquisition", ("Recruiter", "Technical Recruiter", "Sourcer")),
            TeamSpec("People Operations", ("People Partner", "HR Generalist", "People Operations Specialist")),
            TeamSpec("Workplace", ("Workplace Coordinator", "Office Manager", "Receptionist")),
        ),
    ),
    DepartmentSpec(
        "IT",
        4,
        "Head of IT",
        "IT Manager",
        (
            TeamSpec("IT Support", ("IT Support Specialist", "IT Support Technician")),
            TeamSpec("Identity & Access", ("Identity Engineer", "Systems Administrator")),
        ),
    ),
    DepartmentSpec(
        "Legal",
        2,
        "General Counsel",
        "Senior Legal Counsel",
        (
            TeamSpec("Legal", ("Legal Counsel", "Paralegal")),
            TeamSpec("Compliance & Privacy", ("Compliance Officer", "Privacy Counsel")),
        ),
    ),
)
