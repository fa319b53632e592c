#!/usr/bin/env python3
"""Build filterkit's benign sample data deterministically.

How the text was authored
-------------------------
Every sentence in this file was written by the filterkit team, in our own
words, at encyclopedia / textbook-introduction level.  The text is benign:
history, classification, structure, general mechanisms, epidemiology and
public-health context only.  It contains no protocols, no step-by-step
methods, no quantities or growth conditions, and nothing about making any
agent more harmful.

The text is organised into *sentence banks*, one per topic.  Each bank has a
group, a handful of titles and about 22 standalone sentences.  A document is
one title line followed by 5-16 sentences drawn from ONE bank, kept in the
bank's order (hard-negative documents sometimes get one extra sentence from a
general-topic bank).  Each bank's sentence list (and title list) is split into two disjoint
halves: labelled *train* documents use only the first half and labelled
*test* documents only the second half, so every test sentence is unseen in
training.  The demo shards are fresh draws from both halves with their own
seeds.  Every document is between 80 and 400 words (asserted).

Groups (label in brackets):
  target         [1] microbiology, virology, pathogens, infectious-disease
                     mechanisms, genetic manipulation of microbes
  hard_positive  [1] proxy-topic text that uses few obvious keywords
  general        [0] everyday encyclopedia topics
  biomed_negative[0] general biology and general medicine (collateral-damage
                     risk if removed)
  lexical_trap   [0] off-topic text that shares vocabulary with the target
                     (cell phones, computer viruses, vectors, hosts, ...)

Outputs (relative to this file's directory):
  labelled/train.parquet, labelled/test.parquet
  shards/demo-0000.parquet ... demo-0003.parquet
  README.md  (regenerated, including the count tables)

Run:  .venv/bin/python sample_data/make_sample_data.py
Only the standard library and pyarrow are used; no global random state is
touched (every draw goes through a seeded ``random.Random`` instance), and the
parquet files carry no timestamps, so two runs give byte-identical files.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20240611
MIN_WORDS = 80
MAX_WORDS = 400
MIN_SENTENCES = 5
MAX_SENTENCES = 16
MIX_IN_PROB = 0.15  # hard negatives: chance of swapping in one general sentence

GROUP_LABEL = {
    "target": 1,
    "hard_positive": 1,
    "general": 0,
    "biomed_negative": 0,
    "lexical_trap": 0,
}
GROUP_ORDER = ["target", "hard_positive", "general", "biomed_negative", "lexical_trap"]

# Labelled documents per split and group.
LABELLED_PLAN = {
    "train": {"target": 66, "hard_positive": 24, "general": 70,
              "biomed_negative": 40, "lexical_trap": 40},
    "test": {"target": 33, "hard_positive": 12, "general": 35,
             "biomed_negative": 20, "lexical_trap": 20},
}
# Demo shards: documents per group in each shard (~10% label 1).
N_SHARDS = 4
SHARD_PLAN = {"target": 104, "hard_positive": 26, "general": 910,
              "biomed_negative": 130, "lexical_trap": 130}

BANKS: dict[str, dict] = {}


def _bank(group: str, name: str, titles: list[str], sentences: str) -> None:
    """Register a sentence bank. ``sentences`` holds one sentence per line."""
    assert group in GROUP_LABEL, group
    assert name not in BANKS, name
    sents = [s.strip() for s in sentences.strip().splitlines() if s.strip()]
    assert len(sents) >= 20, (name, len(sents))
    assert len(set(sents)) == len(sents), f"duplicate sentence in {name}"
    assert len(titles) >= 2, name
    BANKS[name] = {"group": group, "titles": list(titles), "sentences": sents}


# ---------------------------------------------------------------------------
# TARGET banks (label 1)
# ---------------------------------------------------------------------------
_bank("target", "bacteriology_basics",
      ["Bacteria", "Bacterial cell structure",
       "Introduction to bacteriology", "Overview of prokaryotic microorganisms"], """
Bacteria are single-celled prokaryotic microorganisms that lack a membrane-bound nucleus and other membrane-bound organelles.
Most bacteria are between about one and ten micrometres long, which places them far below the limit of what the unaided eye can see.
Bacteria are commonly classified by shape into spherical cocci, rod-shaped bacilli and spiral forms such as spirilla and spirochaetes.
The Gram stain, developed by Hans Christian Gram in 1884, divides bacteria into two broad groups according to the structure of their cell walls.
Gram-positive bacteria have a thick layer of peptidoglycan in their cell walls, whereas Gram-negative bacteria have a thinner peptidoglycan layer surrounded by an outer membrane.
The bacterial chromosome is usually a single circular molecule of DNA located in an irregular region of the cytoplasm called the nucleoid.
Many bacteria move using flagella, long whip-like appendages driven by a rotary motor embedded in the cell envelope.
Bacteria reproduce asexually by binary fission, in which one cell divides into two genetically identical daughter cells.
Some bacteria, including species of Bacillus and Clostridium, can form endospores that survive heat, drying and radiation for long periods.
Only a small fraction of bacterial species cause disease in humans, and the great majority are harmless or beneficial.
The human gut is home to trillions of bacteria that help digest food, produce certain vitamins and compete with harmful microbes.
Bacteria were among the first forms of life on Earth, and fossil evidence suggests that they existed more than three billion years ago.
Pathogenic bacteria cause illness through a combination of colonising host tissues and releasing toxins that damage host cells.
Pili and fimbriae are short hair-like structures on the bacterial surface that help cells attach to surfaces and to one another.
Many bacteria are surrounded by a capsule, a slimy layer of polysaccharide that can help them resist drying and avoid being engulfed by immune cells.
In modern taxonomy, bacteria form one of the three domains of life, alongside the archaea and the eukaryotes.
Bacteria obtain energy in remarkably diverse ways, ranging from photosynthesis to the oxidation of inorganic compounds such as sulphur and iron.
Aerobic bacteria require oxygen, anaerobic bacteria are harmed by it, and facultative anaerobes can live either with or without it.
Biofilms are structured communities of bacteria embedded in a self-produced matrix that clings to surfaces such as rocks, pipes and teeth.
Bacterial ribosomes differ in size and structure from those of eukaryotic cells, a difference that several classes of antibiotics exploit.
Koch's postulates, formulated in the late nineteenth century, set out criteria for linking a specific microorganism to a specific disease.
Bacterial species are named using binomial nomenclature, as in Escherichia coli or Staphylococcus aureus.
""")

_bank("target", "virus_structure_replication",
      ["Viruses", "Virus structure",
       "The viral replication cycle", "Introduction to virology"], """
A virus is a submicroscopic infectious agent that can replicate only inside the living cells of another organism.
An individual virus particle, or virion, consists of genetic material enclosed in a protein shell called a capsid.
Some viruses are additionally surrounded by a lipid envelope derived from the membrane of the host cell in which they were assembled.
The genome of a virus may be made of DNA or RNA, and it may be single-stranded or double-stranded depending on the virus family.
The Baltimore classification groups viruses into seven classes according to the type of genome they carry and how it is used to produce messenger RNA.
Capsids are built from repeated protein subunits called capsomeres, which commonly assemble into helical or icosahedral shapes.
Viral replication begins when a virus attaches to specific receptor molecules on the surface of a susceptible cell.
After entry, the virus releases its genome into the cell, a step known as uncoating.
Viruses depend on the ribosomes and metabolic machinery of the host cell to make their proteins.
Newly made viral genomes and proteins assemble into progeny virions, which leave the cell by budding from its surface or by bursting it open.
Most viruses are far smaller than bacteria, typically measuring between about 20 and 300 nanometres across.
The range of cell types and species that a virus can infect is described by its host range and tropism.
Viruses infect every form of life, including animals, plants, fungi, bacteria and archaea.
Dmitri Ivanovsky and Martinus Beijerinck showed in the 1890s that the agent of tobacco mosaic disease passed through filters that retained bacteria.
Electron microscopy, introduced in the 1930s, allowed scientists to see the shapes of virus particles for the first time.
Because viruses lack their own metabolism, biologists have long debated whether they should be considered living organisms.
RNA viruses generally accumulate mutations faster than DNA viruses because the enzymes that copy RNA genomes make more errors and rarely correct them.
Retroviruses such as HIV carry an enzyme called reverse transcriptase, which copies their RNA genome into DNA that becomes part of the host chromosome.
Some viruses establish latent infections, remaining dormant inside cells for years before becoming active again, as herpesviruses do.
The International Committee on Taxonomy of Viruses maintains the official classification and naming of virus species.
Giant viruses such as mimivirus, discovered inside amoebae, have genomes larger than those of some bacteria.
Antiviral drugs work by interrupting particular steps of the viral life cycle, such as entry, genome copying or the release of new particles.
""")

_bank("target", "history_of_microbiology",
      ["History of microbiology", "The germ theory of disease",
       "Pioneers of microbiology", "The golden age of bacteriology"], """
Antonie van Leeuwenhoek, a Dutch draper and lens maker, described tiny moving "animalcules" seen through his handmade microscopes in the 1670s.
Robert Hooke's Micrographia, published in 1665, contained some of the earliest drawings of microscopic structures, including a microfungus.
The germ theory of disease, which holds that many diseases are caused by microorganisms, gained wide acceptance during the second half of the nineteenth century.
Louis Pasteur's swan-neck flask experiments in the 1860s helped to disprove the idea that microbes arise by spontaneous generation.
Louis Pasteur showed that fermentation and the spoilage of wine and milk are caused by living microorganisms, work that led to the process now called pasteurisation.
Robert Koch identified the bacterium responsible for anthrax in 1876 and the bacterium that causes tuberculosis in 1882.
Koch's laboratory introduced solid growth media and the practice of working with pure cultures, which transformed the study of bacteria.
Julius Petri, an assistant in Koch's laboratory, devised the shallow covered dish that still bears his name.
Ignaz Semmelweis observed in the 1840s that handwashing by doctors sharply reduced deaths from childbed fever in a Vienna maternity clinic.
Joseph Lister applied germ theory to surgery in the 1860s by using carbolic acid to reduce infection in wounds.
Edward Jenner's work in 1796 showed that material from cowpox lesions could protect people against smallpox, laying the foundation of vaccination.
The decades around 1880 to 1910 are often called the golden age of microbiology, because the causative agents of many major infectious diseases were identified then.
Alexander Fleming noticed in 1928 that a mould contaminating one of his bacterial plates had killed the surrounding colonies, leading to the discovery of penicillin.
Howard Florey and Ernst Chain developed penicillin into a usable medicine during the Second World War, and they shared the 1945 Nobel Prize with Fleming.
Sergei Winogradsky and Martinus Beijerinck founded environmental microbiology by studying microbes that cycle nitrogen and sulphur in soil and water.
Dmitri Ivanovsky's study of tobacco mosaic disease in 1892 is widely regarded as the beginning of virology.
Paul Ehrlich pursued the idea of a "magic bullet", and in 1910 his laboratory introduced Salvarsan, an arsenic-based drug against syphilis.
Frederick Twort and Félix d'Hérelle independently discovered viruses that infect bacteria in 1915 and 1917.
Oswald Avery, Colin MacLeod and Maclyn McCarty showed in 1944 that DNA is the substance responsible for bacterial transformation.
The invention of the electron microscope in the 1930s opened the study of viruses to direct observation.
Selman Waksman's group discovered streptomycin in 1943, the first antibiotic effective against tuberculosis.
During the twentieth century microbiology divided into specialised fields such as virology, immunology, mycology and molecular microbiology.
""")

_bank("target", "host_pathogen_interaction",
      ["Host–pathogen interaction", "Immune evasion by pathogens",
       "How microbes cause disease", "Virulence factors"], """
Host–pathogen interaction is the study of how microorganisms and the organisms they infect affect one another at the molecular, cellular and population levels.
Virulence is a measure of how much harm a pathogen causes, and it reflects both properties of the microbe and the condition of the host.
Molecules that allow a microbe to colonise a host or to cause damage are known collectively as virulence factors.
Adhesins are surface proteins that let bacteria attach firmly to host tissues, which is often the first step in establishing an infection.
The innate immune system recognises conserved microbial molecules, such as lipopolysaccharide and flagellin, through pattern-recognition receptors.
Some bacteria are enclosed in polysaccharide capsules that make them harder for phagocytic white blood cells to engulf.
Antigenic variation, in which a pathogen periodically changes the proteins on its surface, allows the trypanosomes that cause sleeping sickness to stay ahead of antibody responses.
Certain bacteria, including the agent of tuberculosis, survive inside macrophages by preventing the compartments that contain them from fusing with lysosomes.
Many viruses produce proteins that interfere with interferon signalling, one of the earliest antiviral defences of infected cells.
Bacterial toxins are broadly divided into exotoxins, which are secreted proteins, and endotoxins, which are components of the Gram-negative outer membrane.
The outcome of an infection depends on a balance between the ability of the pathogen to multiply and the ability of the host to contain it.
Commensal microbes live on or in a host without causing harm and can protect against pathogens by occupying niches and competing for nutrients.
Opportunistic pathogens usually cause disease only in hosts whose defences are weakened, for example by immunosuppressive therapy or advanced age.
Inflammation is a coordinated response in which blood vessels dilate and immune cells move into infected tissue to contain invading microbes.
The complement system is a cascade of blood proteins that can tag microbes for destruction or punch holes in their membranes.
Some pathogens hide from the immune system by living inside host cells, where antibodies cannot reach them.
Herpesviruses reduce the display of viral fragments on the surface of infected cells, making those cells harder for cytotoxic T cells to recognise.
Symptoms such as fever and fatigue are often produced by the host's own immune response rather than directly by the invading microorganism.
Evolutionary biologists describe host–pathogen interactions as an arms race in which defences and counter-defences evolve over many generations.
Iron is scarce inside the human body, and many bacteria produce molecules called siderophores to compete with the host for it.
Research on host–pathogen interaction informs the design of vaccines and new treatments for infectious diseases.
Zoonotic pathogens are those that naturally infect animals and can also be transmitted to humans.
""")

_bank("target", "epidemiology_transmission",
      ["Epidemiology of infectious diseases", "Transmission of infection",
       "Disease surveillance", "Herd immunity and the spread of infection"], """
Infectious disease epidemiology studies how infections are distributed in populations and which factors influence their spread.
Pathogens can be transmitted through direct contact, respiratory droplets, airborne particles, contaminated food and water, or the bites of insects.
The basic reproduction number, written R0, is the average number of new infections caused by one infected person in a fully susceptible population.
An outbreak becomes an epidemic when cases rise well above what is normally expected in a region, and a pandemic when it spreads across several continents.
Herd immunity arises when a large enough share of a population is immune that a pathogen can no longer spread efficiently, indirectly protecting those who are not immune.
Infections transmitted by the faecal–oral route, such as cholera and typhoid fever, are closely linked to sanitation and the safety of drinking water.
Vector-borne diseases such as malaria, dengue and Lyme disease are spread by mosquitoes, ticks and other blood-feeding arthropods.
The incubation period is the time between exposure to a pathogen and the appearance of the first symptoms.
Public health agencies run surveillance systems that collect reports of notifiable infectious diseases in order to detect unusual increases early.
Contact tracing identifies people who may have been exposed to an infected person so that they can be informed, tested or treated.
John Snow's mapping of cholera deaths around a water pump in the Soho district of London in 1854 is often cited as a founding moment of epidemiology.
Quarantine separates people who may have been exposed to an infection, while isolation separates people who are known to be ill.
Healthcare-associated infections are infections that patients acquire while receiving treatment in hospitals or other care settings.
The 1918 influenza pandemic is estimated to have killed tens of millions of people worldwide.
Seasonal patterns are common in infectious diseases, and respiratory infections such as influenza peak in winter in temperate climates.
Asymptomatic carriers can transmit some infections without showing any signs of illness themselves.
Mathematical models such as the SIR model divide a population into susceptible, infected and recovered groups to describe how an epidemic unfolds.
The case fatality rate is the proportion of diagnosed cases of a disease that end in death, and it can change as testing becomes more widespread.
Handwashing, safe water, vaccination and insect control are among the most effective public health measures against communicable diseases.
Smallpox was declared eradicated by the World Health Organization in 1980, the first human disease to be eliminated worldwide.
Reservoirs of infection include humans, animals and environmental sources such as soil and water in which a pathogen normally lives.
Global travel and trade allow infectious diseases to move between continents far faster than in earlier centuries.
""")

_bank("target", "antibiotic_resistance",
      ["Antibiotic resistance", "Mechanisms of antimicrobial resistance",
       "Antimicrobial resistance as a public health problem", "Antibiotics and their targets"], """
Antibiotic resistance occurs when bacteria evolve the ability to survive exposure to drugs that would normally kill them or stop their growth.
Antibiotics act on targets that are essential to bacteria, such as cell wall synthesis, protein synthesis on the ribosome, or DNA replication.
Penicillins and other beta-lactam antibiotics block the enzymes that build the peptidoglycan of the bacterial cell wall.
Beta-lactamases are bacterial enzymes that break down beta-lactam antibiotics before the drugs can reach their targets.
Some resistant bacteria use efflux pumps, membrane proteins that actively expel antibiotic molecules from the cell.
Antibiotic resistance can arise when mutations change the shape of an antibiotic's target so that the drug no longer binds effectively.
Genes for antibiotic resistance are often carried on plasmids and can spread between different bacterial species by horizontal gene transfer.
Methicillin-resistant Staphylococcus aureus, commonly known as MRSA, became a major cause of hospital infections in the late twentieth century.
The overuse and misuse of antibiotics in human medicine and agriculture are widely regarded as major drivers of resistance.
The World Health Organization has described antimicrobial resistance as one of the top global public health threats facing humanity.
Antibiotic stewardship programmes in hospitals aim to ensure that antibiotics are prescribed only when they are needed.
Antibiotics are ineffective against viruses, so prescribing them for colds and influenza contributes to resistance without benefiting patients.
Multidrug-resistant tuberculosis is resistant to at least the two most important first-line drugs, isoniazid and rifampicin.
Alexander Fleming warned in his 1945 Nobel lecture that the careless use of penicillin could allow resistant microbes to emerge.
Carbapenem-resistant Enterobacterales are a group of Gram-negative bacteria that resist some of the last-resort antibiotics available to doctors.
Persister cells are dormant bacterial cells that tolerate antibiotics without being genetically resistant, and they can cause infections to relapse.
The discovery of new classes of antibiotics slowed sharply after the 1980s, increasing concern about the growing number of resistant infections.
Surveillance networks track the prevalence of resistant bacteria in hospitals and communities to guide treatment guidelines.
Vancomycin works by binding to the building blocks of the bacterial cell wall, and resistance to it in enterococci emerged in the late 1980s.
Resistance genes have been found in bacteria from permafrost and remote caves, showing that resistance is ancient and predates the medical use of antibiotics.
Alternative approaches under study include phage therapy, antibodies against bacterial toxins and drugs that disarm virulence factors.
Because resistant infections are harder to treat, they lead to longer hospital stays, higher medical costs and increased mortality.
""")

_bank("target", "bacteriophages",
      ["Bacteriophage", "Phage biology",
       "Lytic and lysogenic cycles", "Phage therapy"], """
A bacteriophage, or phage, is a virus that infects and replicates within bacteria.
Bacteriophages are thought to be the most abundant biological entities on Earth, with an estimated ten million trillion trillion phage particles in the biosphere.
Many well-studied phages have a head that holds the genome and a tail through which the genetic material is injected into the bacterial cell.
In the lytic cycle, a phage takes over the bacterial cell, produces many new phage particles and then bursts the cell to release them.
In the lysogenic cycle, the phage genome is integrated into the bacterial chromosome as a prophage and is copied along with it at each cell division.
Temperate phages such as lambda can switch from lysogeny to lytic growth when the host cell is damaged.
Frederick Twort in 1915 and Félix d'Hérelle in 1917 independently described agents that destroyed bacterial cultures, and d'Hérelle named them bacteriophages.
Phage therapy, the use of bacteriophages to treat bacterial infections, was practised in the Soviet Union and Eastern Europe for much of the twentieth century.
Interest in phage therapy revived in the twenty-first century as antibiotic resistance became a growing concern.
The T4 phage of Escherichia coli has an elaborate structure with an elongated icosahedral head, a contractile tail and six long tail fibres.
The Hershey–Chase experiment of 1952 used bacteriophages to show that DNA, not protein, carries genetic information.
Phages recognise their bacterial hosts through receptor molecules on the cell surface, so most phages infect only a narrow range of bacterial strains.
Some phages carry genes that change the properties of their bacterial hosts, a process called lysogenic conversion.
The toxin genes of the cholera bacterium and of the diphtheria bacterium are carried by phages, illustrating how viruses can shape bacterial disease.
Phages in the oceans kill a large fraction of marine bacteria every day, strongly influencing nutrient cycles.
Bacteria defend themselves against phages with restriction enzymes, abortive infection systems and CRISPR-based immunity.
The study of phages in the mid-twentieth century, led by the so-called Phage Group around Max Delbrück, helped to found molecular biology.
Phage display is a research technique in which proteins are presented on the surface of phage particles so that their binding to other molecules can be studied.
Phages are used in food production and agriculture to reduce contamination by particular bacteria.
Transduction is the transfer of bacterial genes from one cell to another by a phage that has accidentally packaged host DNA.
The filamentous phage M13 does not kill its host but is continuously released from infected cells.
Phage genomes can be made of single-stranded or double-stranded DNA or RNA, and they vary greatly in size.
""")

_bank("target", "fungal_protozoan_pathogens",
      ["Fungal and protozoan pathogens", "Medical mycology",
       "Parasitic protozoa", "Eukaryotic microbes and human disease"], """
Fungal pathogens are fungi that cause disease in humans, animals or plants, and their study in medicine is called medical mycology.
Candida albicans is a yeast that normally lives harmlessly in the mouth and gut but can cause thrush and more serious infections in some patients.
Aspergillus moulds produce airborne spores that most people inhale daily without harm, although they can cause lung disease in people with weakened immunity.
Cryptococcus neoformans is an encapsulated yeast found in soil and bird droppings that can cause meningitis in immunocompromised people.
Dermatophytes are fungi that infect skin, hair and nails, causing conditions such as athlete's foot and ringworm.
Because fungal cells are eukaryotic like human cells, antifungal drugs are harder to develop than antibacterial drugs.
The chytrid fungus Batrachochytrium dendrobatidis has caused declines and extinctions of amphibian species across several continents.
Protozoa are single-celled eukaryotes, and several of them are important parasites of humans.
Malaria is caused by Plasmodium parasites transmitted by Anopheles mosquitoes, and it remains a leading cause of death in parts of Africa.
The Plasmodium life cycle alternates between the mosquito and the human host, in whom the parasite multiplies first in the liver and then in red blood cells.
Trypanosoma brucei causes African sleeping sickness and is spread by the bite of the tsetse fly.
Chagas disease, caused by Trypanosoma cruzi, is transmitted by triatomine bugs in Latin America and can damage the heart years after infection.
Leishmaniasis is a group of diseases caused by Leishmania parasites and spread by sandflies.
Giardia and Cryptosporidium are protozoa that cause diarrhoeal illness and are often spread through contaminated drinking water.
Toxoplasma gondii can infect almost any warm-blooded animal, but it completes its sexual reproduction only in cats.
Entamoeba histolytica causes amoebic dysentery and can form abscesses in the liver.
Pneumocystis jirovecii, once classified as a protozoan, is now known to be a fungus and causes pneumonia in people with advanced HIV infection.
Candida auris, first identified in 2009, has drawn attention because many isolates resist several classes of antifungal drugs.
Plant pathogens such as the wheat rust fungi and the water mould behind potato late blight have caused famines and major crop losses throughout history.
The Apicomplexa are a group of parasitic protozoa, including Plasmodium and Toxoplasma, that use a specialised apical complex to invade host cells.
Histoplasma capsulatum is a fungus associated with bird and bat droppings that can cause a lung infection called histoplasmosis.
Many protozoan parasites have complex life cycles that involve more than one host species.
""")

_bank("target", "microbial_genetics",
      ["Microbial genetics", "Plasmids",
       "Horizontal gene transfer", "Bacterial conjugation and transformation"], """
Microbial genetics studies how genes are organised, inherited and exchanged in bacteria, archaea, viruses and microbial eukaryotes.
A plasmid is a small DNA molecule, usually circular, that replicates independently of the chromosome within a bacterial cell.
Plasmids often carry genes that give their host an advantage in particular conditions, such as resistance to antibiotics or heavy metals.
Horizontal gene transfer is the movement of genetic material between organisms other than by inheritance from parent to offspring.
The three classic mechanisms of horizontal gene transfer in bacteria are transformation, transduction and conjugation.
In transformation, a bacterial cell takes up fragments of naked DNA from its surroundings and incorporates them into its own genome.
Frederick Griffith's experiments with pneumococci in 1928 first demonstrated transformation, when one strain acquired a heritable trait from heat-killed cells of another.
Conjugation is the direct transfer of DNA from one bacterium to another through a cell-to-cell connection formed with the help of a pilus.
Joshua Lederberg and Edward Tatum discovered bacterial conjugation in Escherichia coli in 1946.
Transposons, sometimes called jumping genes, are DNA sequences that can move from one position in a genome to another.
Integrons are genetic elements that capture gene cassettes and are common in bacteria that carry multiple resistance genes.
Bacteria are haploid, so a single mutation can change a trait immediately without being masked by a second copy of the gene.
The operon concept, developed by François Jacob and Jacques Monod from studies of the lac genes of Escherichia coli, explained how bacteria switch groups of genes on and off.
Pathogenicity islands are large regions of bacterial chromosomes that carry clusters of virulence genes and often appear to have been acquired horizontally.
Comparative genomics has shown that bacteria of the same species can differ considerably in gene content, giving rise to the idea of a pan-genome.
The F plasmid of Escherichia coli encodes the machinery needed for conjugation and was central to early studies of bacterial mating.
Plasmid copy number, the number of copies of a plasmid in each cell, ranges from one or two to several hundred depending on the plasmid.
Horizontal gene transfer blurs the branches of the bacterial tree of life and complicates the reconstruction of microbial evolution.
Restriction–modification systems protect bacteria from foreign DNA by cutting sequences that lack the chemical markings of the host.
Mutation rates in bacteria are low for any single gene, but enormous population sizes mean that new variants arise constantly.
Bacterial genomes are usually compact, with genes densely packed and little non-coding DNA between them.
Viruses of microbes, including phages, act as important vehicles for moving genes between bacterial lineages.
""")

_bank("target", "crispr_microbial_engineering",
      ["CRISPR", "Genetic engineering of microorganisms",
       "Recombinant DNA technology", "Industrial microbiology and biotechnology"], """
CRISPR, short for clustered regularly interspaced short palindromic repeats, was first recognised as an unusual repeated sequence in bacterial genomes.
In bacteria and archaea, CRISPR arrays store short fragments of DNA from past viral infections, forming a kind of adaptive immune memory.
CRISPR-associated proteins, or Cas proteins, use RNA copies of the stored fragments to recognise and cut matching viral DNA.
Jennifer Doudna and Emmanuelle Charpentier described in 2012 how the Cas9 protein could be programmed to cut chosen DNA sequences, and they received the 2020 Nobel Prize in Chemistry.
Dairy companies took an early interest in CRISPR because the system protects the bacteria used in yogurt and cheese making from phage attack.
Recombinant DNA technology, developed in the 1970s, allowed genes from one organism to be joined to DNA from another and expressed in bacteria.
Stanley Cohen and Herbert Boyer are credited with creating the first recombinant DNA organisms in 1973 by combining plasmid DNA with foreign genes.
The Asilomar Conference of 1975 brought scientists together to draw up voluntary guidelines for the safe conduct of recombinant DNA research.
Human insulin produced in genetically modified Escherichia coli was approved for medical use in 1982, becoming the first recombinant drug on the market.
Restriction enzymes, which bacteria use to defend themselves against phages, became essential tools for cutting DNA at specific sequences in molecular biology.
Genetically engineered microbes are used industrially to produce enzymes, vitamins, biofuels and pharmaceuticals.
Baker's yeast, Saccharomyces cerevisiae, is widely used to produce proteins because it is easy to grow and well understood genetically.
Synthetic biology treats genetic parts as standardised components that can be combined to give microbes new functions.
Biosafety rules classify genetically modified microorganisms by risk and set requirements for how they must be contained in laboratories.
Laboratory strains of Escherichia coli such as K-12 are considered low-risk organisms because they survive poorly outside the laboratory.
Expression vectors are plasmids designed to make a host cell produce large amounts of a particular protein.
CRISPR-based diagnostic tests use Cas enzymes to detect specific genetic sequences from pathogens in clinical samples.
Francisco Mojica was among the first researchers to propose that CRISPR sequences function as a defence system in prokaryotes.
Genetic engineering of microbes is regulated in most countries, and researchers usually need institutional approval before starting such work.
Metabolic engineering modifies the biochemical pathways of microbes to increase the yield of useful compounds such as a precursor of the antimalarial drug artemisinin.
Gene drives and other powerful genetic tools have prompted wide public debate about the governance of biotechnology.
Debate over dual-use research concerns the possibility that knowledge from legitimate microbiology could be misused, and it has shaped biosecurity policy.
""")

_bank("target", "vaccine_immunology",
      ["Vaccines", "How vaccines work",
       "Viral antigens and the immune response", "Immunisation and immunological memory"], """
A vaccine is a biological preparation that trains the immune system to recognise a pathogen without causing the disease itself.
Vaccines work by presenting the immune system with antigens, molecules that antibodies and T cells can recognise.
After vaccination, memory B cells and T cells persist for years and can mount a rapid response if the real pathogen is encountered.
Live attenuated vaccines contain weakened forms of a pathogen, as in the combined measles, mumps and rubella vaccine.
Inactivated vaccines contain pathogens that have been killed, such as the injected polio vaccine developed by Jonas Salk.
Subunit vaccines contain only selected proteins or sugars from a pathogen, such as the hepatitis B surface antigen.
Messenger RNA vaccines deliver instructions for making a viral protein, which the body's own cells then produce to stimulate immunity.
Viral surface proteins, such as the haemagglutinin of influenza, are common targets of protective antibodies.
Neutralising antibodies block a virus from binding to or entering cells, preventing infection.
Adjuvants are ingredients added to some vaccines to strengthen the immune response to the antigen.
Influenza vaccines are updated regularly because the surface proteins of influenza viruses change gradually through a process called antigenic drift.
Conjugate vaccines link bacterial capsule sugars to a carrier protein, making them effective in infants whose immune systems respond poorly to sugars alone.
Toxoid vaccines, such as those against tetanus and diphtheria, train the body to neutralise bacterial toxins rather than the bacteria themselves.
Booster doses are included in some vaccination schedules because protection from the first doses fades over time.
Louis Pasteur developed early vaccines against chicken cholera, anthrax in livestock and rabies during the 1880s.
Vaccine development proceeds through laboratory research, animal studies and several phases of clinical trials before licensing.
Cross-reactive immunity occurs when antibodies or T cells raised against one pathogen also recognise a related one.
The major histocompatibility complex presents fragments of viral proteins on the surface of infected cells so that T cells can detect them.
Maternal antibodies passed across the placenta and through breast milk give newborns temporary protection against some infections.
Epitopes are the specific parts of an antigen that an antibody or T-cell receptor binds.
Vaccines have dramatically reduced illness and death from diseases such as diphtheria, measles, polio and whooping cough.
Cold-chain systems keep many vaccines within a narrow temperature range from manufacture to the moment they are given.
""")

_bank("target", "prions",
      ["Prions", "Prion diseases",
       "Transmissible spongiform encephalopathies", "Protein-only infectious agents"], """
Prions are infectious agents made of misfolded protein that can induce normal proteins of the same kind to misfold.
Unlike bacteria and viruses, prions contain no nucleic acid, which makes them unusual among infectious agents.
Prion diseases, also called transmissible spongiform encephalopathies, cause progressive and fatal damage to the brain.
Stanley Prusiner coined the word prion in 1982 and received the Nobel Prize in Physiology or Medicine in 1997 for his work on them.
The normal prion protein, written PrPC, is found on the surface of nerve cells, while the disease-associated form is often written PrPSc.
Misfolded prion proteins clump into aggregates that resist breakdown by enzymes, heat and many ordinary disinfectants.
Scrapie, a prion disease of sheep and goats, has been recognised in Europe for more than two centuries.
Bovine spongiform encephalopathy, popularly called mad cow disease, caused a major epidemic among cattle in the United Kingdom in the 1980s and 1990s.
Variant Creutzfeldt–Jakob disease in humans was linked to eating beef products contaminated with the agent of bovine spongiform encephalopathy.
Kuru was a prion disease among the Fore people of Papua New Guinea that was spread through funeral practices and declined after those practices ended.
Chronic wasting disease is a prion disease that affects deer, elk and moose in North America and in parts of Europe and Asia.
Sporadic Creutzfeldt–Jakob disease is the most common human prion disease and arises without any known source of infection.
Some prion diseases are inherited, caused by mutations in the gene that encodes the prion protein.
The spongy appearance of brain tissue in prion diseases comes from small holes left by the loss of nerve cells.
Carleton Gajdusek received a Nobel Prize in 1976 for work showing that kuru could be transmitted, which pointed to an unconventional infectious agent.
Prion diseases have long incubation periods, sometimes lasting decades between exposure and the onset of symptoms.
Yeast cells contain prion-like proteins that can switch between shapes and pass the altered state on to daughter cells.
Bans on feeding meat and bone meal to cattle were central to bringing the epidemic of bovine spongiform encephalopathy under control.
No cure exists for prion diseases, and treatment focuses on supportive care.
Researchers are investigating whether the prion-like spread of misfolded proteins plays a role in other neurodegenerative disorders, such as Alzheimer's and Parkinson's diseases.
The protein-only hypothesis proposes that the prion protein alone, without any genetic material, is sufficient to transmit disease.
Blood donation rules in several countries were changed in response to concerns about variant Creutzfeldt–Jakob disease.
""")

# ---------------------------------------------------------------------------
# HARD POSITIVE banks (label 1): proxy topic, few obvious keywords
# ---------------------------------------------------------------------------
_bank("hard_positive", "hp_cell_entry_oblique",
      ["How a particle gets inside a cell", "Membrane fusion and cell entry",
       "The spike and the receptor", "Borrowed envelopes and protein coats"], """
The particle's outer coat is studded with spike-shaped proteins that fit receptors on the surface of the cells lining the airway.
Once a spike protein has latched onto its receptor, the fatty outer layer of the particle merges with the membrane of the host cell and its contents are released inside.
Some particles are swallowed whole by the cell in a small bubble of membrane and escape into the interior when the bubble becomes acidic.
The match between a coat protein and a receptor largely determines which tissues and which animal species the agent can enter.
Inside the cell, the particle sheds its coat and its genetic instructions are read by the cell's own protein-making machinery.
The invaded cell is effectively turned into a factory that turns out hundreds or thousands of copies of the intruder before it dies.
New particles pick up a patch of cell membrane as they pinch off from the surface, wrapping themselves in a borrowed envelope.
Sugars attached to the coat proteins can act like a shield, hiding vulnerable spots from the body's defensive proteins.
Small changes in the shape of the coat proteins can allow the particle to slip past antibodies made after an earlier encounter.
Entry often requires a second step, in which an enzyme on the surface of the host cell clips the spike protein so that it can change shape.
Structural biologists use cryo-electron microscopy to picture the coat proteins of such particles in near-atomic detail.
The receptor used by a particular agent is often an ordinary cell-surface protein whose normal job has nothing to do with illness.
Drugs known as entry inhibitors are designed to block the step in which the outer coat fuses with the membrane of the target cell.
Certain agents of this kind spread directly from one cell to its neighbour or travel along nerve fibres rather than drifting freely in body fluids.
Particles without a fatty outer layer are generally tougher and last longer on surfaces and in water.
Soap breaks apart the fatty outer layer of enveloped particles, which is one reason why washing hands is so effective.
The coat of some agents is a geometric shell of twenty triangular faces built from many copies of the same protein.
Studying how coat proteins meet their receptors helps explain why some agents attach to the cells of birds while others attach to human cells.
The body's defences try to smother the incoming particles with antibodies that stop the spike proteins from reaching their receptors.
A tiny agent carrying only a handful of genes can still reprogram a much larger host cell by commandeering its machinery.
After taking over a cell, the intruder often suppresses the alarm signals that would otherwise warn neighbouring cells.
The distribution of a receptor around the body helps explain why some illnesses mainly affect the lungs while others target the gut or the liver.
""")

_bank("hard_positive", "hp_institute_history",
      ["The Pasteur Institute", "Research institutes of the late nineteenth century",
       "From a Paris foundation to a global network", "Great laboratories of public health"], """
The Pasteur Institute was founded in Paris in 1887 and opened its doors in 1888, funded in part by an international public subscription.
The first purpose of the Pasteur Institute was to treat people bitten by rabid animals, following Louis Pasteur's success in 1885 with a young patient named Joseph Meister.
Researchers at the Pasteur Institute went on to study diphtheria, plague, tuberculosis and many other contagious illnesses.
Alexandre Yersin, who trained at the Pasteur Institute, identified the cause of plague during an epidemic in Hong Kong in 1894.
Émile Roux and Alexandre Yersin showed in 1888 that a poison released by the diphtheria organism was responsible for much of the harm seen in patients.
Élie Metchnikoff, who worked at the Pasteur Institute from 1888, described how certain white blood cells engulf and digest foreign particles.
The BCG preparation against tuberculosis was developed at the Pasteur Institute in Lille by Albert Calmette and Camille Guérin and first given to a child in 1921.
During the twentieth century the Pasteur Institute grew into a network of affiliated centres in Africa, Asia and the Americas.
In 1983 a team led by Françoise Barré-Sinoussi and Luc Montagnier at the Pasteur Institute isolated the agent later named HIV.
Roughly ten Nobel Prizes have been awarded to scientists who worked at the Pasteur Institute.
The Robert Koch Institute in Berlin began in 1891 as the Royal Prussian Institute for Infectious Diseases, with Koch as its first director.
Paul Ehrlich and Emil von Behring both worked with Koch in Berlin before becoming famous for their own work on serum therapy and chemotherapy.
The institute that became the Lister Institute of Preventive Medicine was established in London in 1891 and later renamed after the surgeon Joseph Lister.
The Rockefeller Institute for Medical Research, founded in New York in 1901, became a leading centre for the study of contagious illness.
At the Rockefeller Institute, Oswald Avery's group identified DNA as the substance that could transfer a heritable trait between pneumococcal cells.
The Hygienic Laboratory of the United States Marine Hospital Service, founded in 1887, later grew into the National Institutes of Health.
The Communicable Disease Center was established in Atlanta in 1946 to fight malaria, and it later became the Centers for Disease Control and Prevention.
Many of the great research institutes founded around 1890 combined research with the production of sera and vaccines for public use.
The Kitasato Institute in Tokyo grew out of a laboratory founded in 1892 by Kitasato Shibasaburō, who had worked with Koch and co-discovered tetanus antitoxin.
Research laboratories of the late nineteenth century kept collections of reference organisms that were shared with researchers in other countries.
The founding of dedicated research institutes in the 1880s and 1890s marked the moment when the study of contagion became a professional scientific discipline.
Today the Pasteur Institute and its sister institutes work on emerging infections, drug resistance and training for global health.
""")

_bank("hard_positive", "hp_circular_dna",
      ["Small circles of DNA", "Extra-chromosomal elements",
       "Genes shared among single-celled organisms", "Mobile genetic elements"], """
Many single-celled organisms carry, alongside their main chromosome, small circular DNA molecules that are copied independently of it.
Extra-chromosomal DNA circles often hold only a few genes, but those genes can make a big difference to survival in a particular environment.
A single-celled organism can pass a copy of a small DNA circle to a neighbouring cell through a thin bridge that forms between them.
Because small DNA circles move between cells of different species, a useful trait that appears in one lineage can spread to distant relatives.
Researchers in Japan in the late 1950s noticed that resistance to several drugs at once could pass between different kinds of gut organisms.
Such circular elements typically carry a starting point for copying, genes that control how many copies exist, and sometimes genes that keep them from being lost when the cell divides.
Some circular elements protect the cell that carries them from specific toxins released by competing cells.
Circles that carry the genes for building the bridge between cells are described as self-transmissible.
Segments of DNA that can hop from one position to another often ride on small DNA circles, gathering extra genes over time.
The term plasmid was introduced by Joshua Lederberg in 1952 to describe any hereditary element that exists outside the chromosome.
In nature, the exchange of small DNA circles works like a shared library from which single-celled organisms can borrow genes.
Some nitrogen-fixing soil organisms depend on large circular elements that carry the genes needed to form nodules on plant roots.
The organism responsible for crown gall transfers part of a large DNA circle into plant cells, causing tumour-like growths on the plant.
Small circular molecules became workhorses of molecular biology in the 1970s, because they could carry a chosen gene into a single-celled host.
A cell may lose such an element once it is no longer useful, because maintaining extra DNA costs energy.
The exchange of genes between unrelated single-celled organisms means that their family trees look less like trees and more like tangled webs.
Mathematical models of how extra-chromosomal elements persist in populations weigh the cost they impose against the benefits they provide.
Some circular elements carry genes that let the cell use unusual food sources, such as certain hydrocarbons.
Analysis of sewage and river sediments has revealed a vast diversity of small circular DNA molecules moving among single-celled organisms.
Two elements that share the same copying machinery usually cannot coexist stably in one cell, a property called incompatibility.
The circular shape helps protect such DNA molecules from enzymes that attack the loose ends of linear DNA.
Genes carried on mobile circles help explain why the same drug-resistance trait can appear in unrelated organisms within a few years.
""")

_bank("hard_positive", "hp_historic_epidemics",
      ["The Broad Street pump", "Plague in medieval Europe",
       "The story of Typhoid Mary", "Epidemics that shaped public health"], """
In late August 1854 a sudden wave of deaths from cholera struck the streets around Broad Street in the Soho district of London.
The physician John Snow plotted each death on a street map and found that most of them clustered around a single public water pump.
John Snow persuaded the local authorities to remove the handle of the pump, and the number of new cases, already falling, continued to decline.
John Snow argued that cholera spread through contaminated water rather than through foul air, as the prevailing miasma theory held.
The Black Death swept across Europe between 1347 and 1351 and killed perhaps a third or more of the continent's population.
Medieval observers blamed the great mortality on bad air, the alignment of the planets or divine punishment, since the true cause was unknown.
Analysis of ancient DNA from plague burial pits has confirmed that the organism Yersinia pestis was responsible for the Black Death.
Plague circulates among rats and other rodents and reaches people mainly through the bites of their fleas.
Mary Mallon, a cook in New York in the early 1900s, carried typhoid without feeling ill and was linked to many cases among the families she worked for.
Public health officials confined Mary Mallon on North Brother Island, and the press came to call her Typhoid Mary.
The case of Typhoid Mary introduced the public to the idea of a healthy carrier who could pass on an illness without showing symptoms.
The so-called Spanish flu of 1918 to 1920 travelled along troop movements and shipping routes in the final months of the First World War.
Cities that closed schools, theatres and churches early during the 1918 epidemic tended to have lower peak death rates than cities that waited.
Yellow fever epidemics in the American South and the Caribbean during the nineteenth century prompted studies of how the illness spread.
Walter Reed's commission in Cuba in 1900 confirmed Carlos Finlay's theory that yellow fever is carried by mosquitoes.
The construction of the Panama Canal succeeded in part because mosquito control campaigns reduced yellow fever and malaria among the workers.
Smallpox arrived in the Americas with European explorers and devastated Indigenous populations who had no prior exposure.
The last naturally occurring case of smallpox was recorded in Somalia in 1977.
Parish registers and bills of mortality allow historians to reconstruct how epidemics moved through towns week by week.
The Great Plague of London in 1665 killed an estimated 100,000 people, about a quarter of the city's population.
The word quarantine comes from the Venetian practice of holding ships for forty days before passengers could land during plague years.
Historic epidemics of cholera, plague, typhoid and yellow fever shaped modern ideas about sanitation, isolation and the way contagious illness moves through communities.
""")

# ---------------------------------------------------------------------------
# GENERAL banks (label 0)
# ---------------------------------------------------------------------------
_bank("general", "football",
      ["Association football", "The history of football",
       "Football tactics", "The FIFA World Cup"], """
Association football is a team sport played between two sides of eleven players, each trying to move the ball into the opposing goal.
The modern rules of the game were codified in England in 1863, when the Football Association was founded in London.
Only the goalkeeper may handle the ball, and only within the penalty area that surrounds the goal.
A standard professional match lasts ninety minutes, divided into two halves of forty-five minutes each.
The offside rule prevents attacking players from waiting near the opposing goal ahead of the last defenders.
The FIFA World Cup, first held in Uruguay in 1930, takes place every four years and is one of the most watched sporting events in the world.
Brazil has won the men's World Cup five times, more than any other nation.
Formations such as the 4-4-2 and the 4-3-3 describe how a team arranges its defenders, midfielders and forwards.
The English Premier League was formed in 1992 when the top clubs broke away from the old Football League.
Video assistant referees were introduced at the highest level in the late 2010s to review goals, penalties and red cards.
A yellow card is a caution, and a player who receives two in the same match is sent off.
Pressing is a tactic in which players close down opponents quickly to win the ball back high up the pitch.
The UEFA Champions League brings together the leading club sides of Europe in an annual competition.
Women's football has grown rapidly, and the FIFA Women's World Cup has been held every four years since 1991.
Many leagues suspended their matches in the spring of 2020 because of the COVID-19 pandemic and later played in empty stadiums.
Penalty shoot-outs decide knockout matches that remain level after extra time.
Transfer fees for leading players have risen sharply, reflecting the sport's growing broadcasting income.
Youth academies at professional clubs train promising players from a young age.
Goal-line technology uses cameras to determine whether the whole ball has crossed the line.
Many stadiums in Britain were converted to all-seater designs after safety reviews in the late 1980s and early 1990s.
Supporters' songs and chants are an important part of the atmosphere at matches.
A hat-trick is scored when one player scores three goals in a single match.
The captain wears an armband and acts as the team's representative in discussions with the referee.
""")

_bank("general", "personal_finance",
      ["Personal finance", "Investing basics",
       "Interest rates and saving", "Managing a household budget"], """
Personal finance covers how individuals and households budget, save, borrow, invest and plan for retirement.
A budget compares expected income with planned spending so that money can be directed toward priorities.
Compound interest means that interest is earned on previously earned interest as well as on the original sum.
An emergency fund is a reserve of cash set aside to cover unexpected expenses such as car repairs or the loss of a job.
Stocks represent partial ownership of a company, while bonds are loans made to a company or a government.
Diversification spreads investments across different assets so that a loss in one does not dominate the whole portfolio.
Index funds aim to match the performance of a market index rather than trying to beat it, usually at low cost.
Inflation reduces the purchasing power of money over time, which is why cash held for many years loses value in real terms.
Credit scores summarise a borrower's history of repaying debt and influence the interest rates that lenders offer.
Mortgages are long-term loans secured against property, commonly repaid over twenty-five or thirty years.
High-interest credit card debt is usually the most expensive kind of borrowing for households.
Pension schemes allow workers to save for retirement, often with contributions from employers and tax relief from the state.
Central banks raise or lower interest rates to influence borrowing, spending and inflation in the wider economy.
Exchange-traded funds trade on stock exchanges like shares while holding a basket of underlying assets.
The rule of 72 is a rough way to estimate how many years an investment takes to double at a given annual rate of return.
Insurance transfers the financial risk of events such as fire or theft to an insurer in exchange for a premium.
Financial advisers may be paid by fees or by commissions, and the difference can affect the advice they give.
Dollar-cost averaging means investing a fixed amount at regular intervals regardless of market prices.
Tax-advantaged accounts let savers shelter some investment returns from income tax or capital gains tax.
Market volatility refers to how sharply prices rise and fall over short periods.
Bank deposits in many countries are protected up to a set limit by a government guarantee scheme.
Behavioural finance studies how emotions and mental shortcuts lead people to make predictable financial mistakes.
Stock markets fell sharply in March 2020 as the pandemic spread, before recovering strongly later that year.
""")

_bank("general", "cooking",
      ["Cooking techniques", "The basics of baking",
       "Braising and roasting", "Kitchen fundamentals"], """
Cooking transforms raw ingredients through heat, changing their texture, flavour and colour.
The Maillard reaction between sugars and amino acids produces the brown crust and savoury aromas of seared meat and toasted bread.
Braising combines an initial browning with long, gentle cooking in a covered pot with a small amount of liquid.
Roasting uses the dry heat of an oven and works best for tender cuts of meat and sturdy vegetables.
Emulsions such as mayonnaise and vinaigrette suspend droplets of oil in a watery liquid with the help of an emulsifier like egg yolk or mustard.
Bread rises because yeast produces carbon dioxide, which is trapped in a stretchy network of gluten.
Kneading develops gluten, while resting the dough allows it to relax and become easier to shape.
A roux, made by cooking flour in butter, is the base for classic sauces such as béchamel and velouté.
Salt enhances flavour and also draws moisture out of vegetables and meat.
Blanching briefly cooks vegetables in boiling water before cooling them quickly to preserve their colour and crispness.
Sous-vide cooking seals food in a bag and holds it in a precisely controlled water bath for a long time.
Caramelisation occurs when sugar is heated until it breaks down into hundreds of new flavour compounds.
A sharp knife is safer than a dull one because it needs less force and is less likely to slip.
Stocks are made by simmering bones, vegetables and aromatics in water for several hours.
Baking is often described as more precise than other kinds of cooking, because small changes in proportions can alter the result.
Acids such as lemon juice and vinegar brighten flavours and balance rich or fatty dishes.
Stir-frying cooks small pieces of food quickly over very high heat in a wok.
Resting meat after cooking lets the juices redistribute so that less is lost when it is sliced.
Herbs with delicate leaves, such as basil and parsley, are usually added at the end of cooking.
Pastry stays flaky when the fat remains in distinct layers that produce steam in the oven.
Mise en place is the French term for preparing and arranging all the ingredients before cooking begins.
Regional cuisines reflect local climate, trade history and the ingredients that grow nearby.
Pasteurised eggs are often recommended for dishes such as mousse that are served without cooking.
""")

_bank("general", "astronomy",
      ["Astronomy", "The Solar System",
       "Stars and galaxies", "Observing the night sky"], """
Astronomy is the scientific study of celestial objects such as stars, planets, comets and galaxies.
The Solar System consists of the Sun and the objects bound to it by gravity, including eight planets and their moons.
Jupiter is the largest planet in the Solar System, with a mass more than twice that of all the other planets combined.
A light-year is the distance light travels in one year, about 9.46 trillion kilometres.
Stars form inside dense clouds of gas and dust when gravity causes regions of the cloud to collapse.
The Sun is a middle-aged star about 4.6 billion years old that generates energy by fusing hydrogen into helium.
The Milky Way is a barred spiral galaxy containing somewhere between a hundred billion and four hundred billion stars.
Black holes are regions where gravity is so strong that nothing, not even light, can escape.
Edwin Hubble showed in the 1920s that galaxies are moving away from us at speeds roughly proportional to their distance.
The cosmic microwave background is faint radiation left over from the early universe, discovered in 1965.
Exoplanets are planets that orbit stars other than the Sun, and thousands have been confirmed since the 1990s.
The James Webb Space Telescope, launched in December 2021, observes the universe mainly in infrared light.
Comets are icy bodies that develop glowing tails when they approach the Sun.
A solar eclipse occurs when the Moon passes between the Earth and the Sun, blocking some or all of its light.
Neutron stars are the collapsed cores of massive stars and can spin hundreds of times per second.
Saturn's rings are made mostly of ice particles ranging from tiny grains to boulders.
Galileo Galilei used an early telescope in 1610 to discover the four largest moons of Jupiter.
Light pollution from cities makes it difficult to see faint stars and the band of the Milky Way.
The Andromeda Galaxy is the nearest large spiral galaxy to the Milky Way, about 2.5 million light-years away.
Supernovae are powerful stellar explosions that can briefly outshine an entire galaxy.
Radio telescopes detect long-wavelength emissions from objects such as pulsars and clouds of cold gas.
Pluto was reclassified as a dwarf planet by the International Astronomical Union in 2006.
""")

_bank("general", "ancient_rome",
      ["Ancient Rome", "The Roman Republic",
       "The Roman Empire", "Roman society and engineering"], """
Ancient Rome grew from a small settlement on the River Tiber into an empire that dominated the Mediterranean world.
According to tradition, the city of Rome was founded in 753 BC by Romulus.
The Roman Republic was established around 509 BC after the overthrow of the last king.
During the Republic, power was shared among elected magistrates, the Senate and the popular assemblies.
Julius Caesar crossed the Rubicon in 49 BC, starting a civil war that ended the traditional republican order.
Augustus became the first Roman emperor in 27 BC and presided over a long period of relative stability.
The Pax Romana was a period of about two centuries of comparative peace across the empire.
The Antonine Plague, which struck the empire in the AD 160s during the reign of Marcus Aurelius, is blamed by ancient writers for heavy loss of life.
Roman engineers built roads, bridges and aqueducts, many of which survive today.
Latin, the language of Rome, is the ancestor of Italian, French, Spanish, Portuguese and Romanian.
The Colosseum in Rome could hold tens of thousands of spectators for gladiatorial games and public spectacles.
Roman law has strongly influenced the legal systems of many modern countries.
The empire reached its greatest territorial extent under the emperor Trajan in AD 117.
The emperor Constantine legalised Christianity in the early fourth century and founded Constantinople.
The Western Roman Empire is conventionally said to have ended in AD 476, when the last emperor in the west was deposed.
The Eastern Roman Empire, often called the Byzantine Empire, lasted until the fall of Constantinople in 1453.
Roman concrete, made with volcanic ash, has proved remarkably durable in harbour structures.
Legions were the main units of the Roman army, each made up of several thousand heavy infantry.
The Forum was the centre of political, religious and commercial life in the city of Rome.
Pompeii was buried by the eruption of Mount Vesuvius in AD 79, preserving a detailed picture of daily life.
Roman citizenship brought legal rights and was gradually extended to most free inhabitants of the empire.
The Punic Wars against Carthage made Rome the leading power in the western Mediterranean.
Historians such as Livy and Tacitus wrote accounts that remain major sources for Roman history.
""")

_bank("general", "software_engineering",
      ["Software engineering", "Version control",
       "Software testing", "Designing maintainable code"], """
Software engineering applies systematic methods to the design, development, testing and maintenance of software.
Version control systems such as Git record every change to a codebase and let many developers work on it at once.
Unit tests check small pieces of code in isolation, while integration tests verify that components work together.
Continuous integration automatically builds and tests a project every time a change is pushed to the shared repository.
Code review is the practice of having colleagues read proposed changes before they are merged.
Agile methods organise work into short iterations and emphasise frequent feedback from users.
Technical debt describes the future cost of shortcuts taken to deliver software quickly.
Refactoring improves the internal structure of code without changing its external behaviour.
An application programming interface, or API, defines how different pieces of software communicate with one another.
Design patterns such as the observer and the factory provide reusable solutions to common design problems.
Static type checking catches certain classes of errors before a program is run.
Microservice architectures split an application into small services that can be deployed independently.
Documentation helps new contributors understand how a system is organised and why decisions were made.
Profiling tools measure where a program spends its time so that optimisation can focus on real bottlenecks.
Semantic versioning uses major, minor and patch numbers to signal the kind of changes in each release.
Pair programming has two developers share one workstation, with one writing code while the other reviews it.
Open-source software is distributed with its source code under licences that allow others to study, modify and share it.
Containers package an application with its dependencies so that it runs the same way on different machines.
Logging and monitoring let operators notice failures in production systems and diagnose their causes.
The waterfall model arranges development into sequential phases such as requirements, design, implementation and testing.
Dependency management tools resolve and install the libraries a project needs in compatible versions.
Fred Brooks observed in The Mythical Man-Month that adding people to a late software project tends to make it later.
""")

_bank("general", "classical_music",
      ["Classical music", "The symphony orchestra",
       "Composers of the Romantic era", "Musical forms"], """
Western classical music spans roughly a thousand years, from medieval chant to contemporary concert works.
The Baroque period, from about 1600 to 1750, produced composers such as Johann Sebastian Bach, George Frideric Handel and Antonio Vivaldi.
The symphony orchestra is traditionally divided into four sections: strings, woodwinds, brass and percussion.
Sonata form, with its exposition, development and recapitulation, was central to the music of the Classical era.
Joseph Haydn wrote more than a hundred symphonies and is often called the father of the symphony.
Wolfgang Amadeus Mozart composed over six hundred works before his death at the age of thirty-five.
Ludwig van Beethoven continued to compose after becoming almost completely deaf, completing his Ninth Symphony in 1824.
The Romantic era emphasised emotional expression and saw the rise of the virtuoso soloist.
Opera combines music, singing, drama and stagecraft, and it originated in Italy around 1600.
The piano was invented by Bartolomeo Cristofori in Florence around 1700.
A concerto features a solo instrument accompanied by an orchestra.
Igor Stravinsky's ballet The Rite of Spring caused a famous disturbance at its Paris premiere in 1913.
Chamber music is written for small ensembles, such as the string quartet of two violins, a viola and a cello.
The conductor sets the tempo, shapes the interpretation and coordinates the musicians of an orchestra.
Twelve-tone technique, developed by Arnold Schoenberg, arranges all twelve notes of the chromatic scale into a fixed series.
Equal temperament divides the octave into twelve equal semitones, allowing music to be played in any key.
Frédéric Chopin wrote almost exclusively for solo piano, including nocturnes, études and mazurkas.
Programme music tells a story or depicts a scene, as in Hector Berlioz's Symphonie fantastique.
Counterpoint is the art of combining independent melodic lines so that they sound harmonious together.
Many orchestras today commission new works alongside performances of the established repertoire.
Musical notation records pitch, rhythm and dynamics so that a piece can be performed by others.
Gustav Mahler's symphonies are known for their enormous scale and orchestral forces.
""")

_bank("general", "contract_law",
      ["Contract law", "The law of contracts",
       "Legal systems", "Courts and precedent"], """
A contract is a legally enforceable agreement between two or more parties.
In common law systems, a valid contract generally requires an offer, an acceptance, consideration and an intention to create legal relations.
Consideration is something of value exchanged between the parties, such as money, goods or a promise to act.
A breach of contract occurs when one party fails to perform its obligations without a lawful excuse.
Damages for breach are usually intended to put the injured party in the position it would have been in had the contract been performed.
Common law systems rely heavily on judicial precedent, while civil law systems are based mainly on written codes.
The doctrine of stare decisis requires lower courts to follow the decisions of higher courts on similar facts.
Misrepresentation, duress and undue influence can make a contract voidable.
Some contracts, such as those for the sale of land, must be made in writing to be enforceable.
Limitation periods set the time within which a legal claim must be brought.
Arbitration is a private way of resolving disputes outside the courts, often chosen in commercial contracts.
Tort law deals with civil wrongs such as negligence, nuisance and defamation.
In criminal cases the prosecution must usually prove guilt beyond reasonable doubt.
Civil cases are typically decided on the balance of probabilities.
Exclusion clauses attempt to limit a party's liability and are often scrutinised by courts for fairness.
The Napoleonic Code of 1804 influenced the civil law of many countries in Europe and beyond.
Appeals allow a higher court to review the decision of a lower court for errors of law.
Specific performance is a court order requiring a party to carry out its contractual obligations.
Consumer protection laws give buyers rights that cannot be removed by the small print of a contract.
The legal profession in some countries is divided between barristers, who argue cases in court, and solicitors, who advise clients.
Constitutional law sets out the structure of government and the rights of citizens.
Mediation uses a neutral third party to help disputing sides reach their own settlement.
""")

_bank("general", "travel",
      ["Travel guide: Kyoto and beyond", "Planning a trip",
       "Rail travel in Europe", "Travelling on a budget"], """
Kyoto served as the imperial capital of Japan for more than a thousand years and is known for its temples, shrines and gardens.
The Fushimi Inari shrine in Kyoto is famous for its thousands of vermilion torii gates winding up a wooded mountain.
Japan's Shinkansen high-speed trains connect major cities and are known for their punctuality.
Many travellers buy rail passes that allow unlimited journeys within a country or region for a fixed period.
Booking flights well in advance and travelling outside peak seasons can reduce costs considerably.
Travel clinics advise on which vaccinations are recommended or required for particular destinations.
Night trains have enjoyed a revival in Europe as travellers look for alternatives to short-haul flights.
Travel insurance covers unexpected costs such as cancelled trips, lost luggage and emergency medical care.
Hostels offer dormitory beds and shared kitchens, making them popular with budget travellers.
The Schengen Area allows passport-free travel across most countries of the European Union and several neighbouring states.
Learning a few phrases of the local language is appreciated by residents and can make everyday tasks easier.
Packing light makes it easier to move between trains, buses and accommodation.
Lisbon is built on steep hills, and its historic trams climb narrow streets through the old quarters.
National parks such as Yosemite in California attract millions of visitors each year.
The best time to visit many Mediterranean destinations is spring or autumn, when it is warm but less crowded.
Local markets are often good places to try regional food at modest prices.
Jet lag occurs when the body's internal clock is out of step with the time zone at a destination.
Responsible tourism encourages visitors to respect local customs and support locally owned businesses.
Iceland's Ring Road circles the island and passes waterfalls, glaciers and black sand beaches.
Many museums offer free entry on certain days of the month.
Guidebooks such as those published by Baedeker in the nineteenth century helped to popularise tourism.
Visa requirements vary widely, so travellers should check entry rules before booking.
Cycling holidays along river paths, such as the Danube route, have grown in popularity.
""")

_bank("general", "climate_science",
      ["Climate change", "The greenhouse effect",
       "Climate science", "Renewable energy and emissions"], """
Climate change refers to long-term shifts in temperatures and weather patterns, now driven largely by human activities.
The greenhouse effect occurs when gases such as carbon dioxide and methane trap heat in the lower atmosphere.
Burning coal, oil and natural gas is the largest source of carbon dioxide emissions from human activity.
Average global surface temperature has risen by more than one degree Celsius since the late nineteenth century.
The Intergovernmental Panel on Climate Change assesses the scientific literature and publishes regular reports.
The Paris Agreement of 2015 set the goal of limiting warming to well below two degrees Celsius.
Sea levels are rising because ocean water expands as it warms and because glaciers and ice sheets are melting.
Arctic sea ice has declined markedly in extent and thickness since satellite observations began in 1979.
Ice cores from Antarctica preserve bubbles of ancient air that record carbon dioxide levels over hundreds of thousands of years.
The Keeling Curve has tracked rising carbon dioxide concentrations at Mauna Loa in Hawaii since 1958.
Solar and wind power have become among the cheapest sources of new electricity in many countries.
Heatwaves have become more frequent and more intense in many regions.
The oceans absorb a large share of emitted carbon dioxide, which makes seawater more acidic.
Climate models divide the atmosphere and oceans into a grid and solve the equations of physics to project future conditions.
Carbon pricing puts a cost on emissions through taxes or trading schemes.
Adaptation measures include building flood defences, changing farming practices and improving early warning systems.
Feedback loops, such as melting ice exposing darker surfaces that absorb more sunlight, can amplify warming.
Methane is a shorter-lived but much more powerful greenhouse gas than carbon dioxide.
Net zero means balancing the greenhouse gases put into the atmosphere with those taken out.
The El Niño–Southern Oscillation is a natural climate pattern in the Pacific that affects weather around the world.
Electric vehicles and heat pumps are key technologies for reducing emissions from transport and buildings.
Svante Arrhenius calculated in 1896 that doubling atmospheric carbon dioxide would warm the Earth by several degrees.
Warmer temperatures are expected to extend the range of some mosquito-borne diseases into regions that were previously too cool for them.
""")

_bank("general", "architecture",
      ["Architecture", "Architectural styles",
       "Modern architecture", "Gothic and Renaissance buildings"], """
Architecture is the art and science of designing buildings and other physical structures.
Gothic cathedrals used pointed arches, ribbed vaults and flying buttresses to achieve great height and large windows.
The Parthenon in Athens, completed in 432 BC, is a classic example of the Doric order.
Renaissance architects such as Filippo Brunelleschi revived classical forms and mathematical proportion.
Brunelleschi's dome for Florence Cathedral, completed in the fifteenth century, remains one of the largest masonry domes ever built.
The Bauhaus school, founded in Germany in 1919, promoted functional design and modern materials.
Le Corbusier set out five points of modern architecture, including pilotis, free plans and ribbon windows.
Skyscrapers became possible in the late nineteenth century with steel frames and safe passenger elevators.
Frank Lloyd Wright's Fallingwater, built over a waterfall in Pennsylvania, integrates the house with its natural setting.
Brutalism, popular from the 1950s to the 1970s, is known for raw concrete and bold geometric forms.
Sustainable architecture aims to reduce energy use through insulation, natural ventilation and solar design.
The Sydney Opera House, designed by Jørn Utzon, opened in 1973 and is known for its sail-like shells.
Vernacular architecture uses local materials and traditional methods suited to the regional climate.
Building information modelling creates a digital representation of a building's physical and functional characteristics.
The Burj Khalifa in Dubai, completed in 2010, is the tallest building in the world.
Baroque architecture uses dramatic curves, rich ornament and effects of light and shadow.
Load-bearing walls carry the weight of the structure above them, while curtain walls carry only their own weight.
Urban planning shapes the layout of streets, public spaces and transport in cities.
The Roman architect Vitruvius wrote that buildings should be strong, useful and beautiful.
Art Deco buildings of the 1920s and 1930s feature stylised geometric decoration, as seen in New York's Chrysler Building.
Timber construction is seeing renewed interest through engineered products such as cross-laminated timber.
Listed building status protects structures of special historic or architectural interest from unsuitable alteration.
""")

_bank("general", "automobiles",
      ["Automobiles", "How car engines work",
       "Electric cars", "The history of the motor car"], """
The automobile is a wheeled motor vehicle designed mainly to carry passengers on roads.
Karl Benz built what is widely considered the first practical automobile, patented in 1886.
Henry Ford's moving assembly line, introduced in 1913, made the Model T affordable to millions of people.
A four-stroke petrol engine operates in cycles of intake, compression, power and exhaust.
Diesel engines ignite their fuel using the heat of compressed air rather than a spark plug.
Electric cars use batteries to power electric motors and produce no exhaust emissions while driving.
Regenerative braking allows electric and hybrid vehicles to recover energy that would otherwise be lost as heat.
Hybrid vehicles combine an internal combustion engine with one or more electric motors.
Anti-lock braking systems prevent the wheels from locking during hard braking, helping drivers keep steering control.
Seat belts became compulsory equipment in new cars in many countries during the 1960s and 1970s.
A manual gearbox requires the driver to operate a clutch and select gears, while an automatic changes gears by itself.
Crash tests assess how well a car protects its occupants in collisions.
Turbochargers use exhaust gases to spin a turbine that forces more air into the engine.
The Volkswagen Beetle was produced for more than six decades and became one of the best-selling cars ever made.
Fuel economy is measured in litres per hundred kilometres in many countries and in miles per gallon in others.
Driver-assistance features such as adaptive cruise control and lane keeping are becoming common on new models.
Tyre pressure affects handling, braking distance and fuel consumption.
Formula One racing has served as a testing ground for technologies later adopted in road cars.
Charging networks for electric vehicles have expanded rapidly along motorways and in cities.
Catalytic converters reduce harmful exhaust gases by converting them into less harmful substances.
Classic car enthusiasts restore and preserve older vehicles, often showing them at rallies and museums.
Research on self-driving cars combines cameras, radar and software to perceive the road and make driving decisions.
""")

_bank("general", "chess",
      ["Chess", "Chess openings",
       "The history of chess", "Computer chess"], """
Chess is a two-player strategy game played on a board of sixty-four squares arranged in an eight-by-eight grid.
Each player begins with sixteen pieces: a king, a queen, two rooks, two bishops, two knights and eight pawns.
The aim of the game is to checkmate the opponent's king, leaving it under attack with no legal escape.
Chess is believed to have developed from the Indian game chaturanga around the sixth century.
Castling is a special move that lets a player move the king two squares toward a rook, which then jumps to the other side of the king.
The en passant rule allows a pawn to capture an enemy pawn that has just advanced two squares alongside it.
Openings such as the Sicilian Defence and the Queen's Gambit have been studied in great depth.
Wilhelm Steinitz became the first official world chess champion in 1886.
The Elo rating system, devised by Arpad Elo, estimates the relative playing strength of players.
IBM's Deep Blue defeated the world champion Garry Kasparov in a six-game match in 1997.
Modern chess engines use search algorithms and neural networks to evaluate positions far beyond human ability.
A stalemate occurs when the player to move has no legal moves but is not in check, and the game is drawn.
Time controls limit the total thinking time available to each player, measured with a chess clock.
Blitz chess gives each player only a few minutes for the whole game.
Endgame study examines positions with few pieces left, where precise technique decides the result.
Bobby Fischer won the world championship in 1972 in a match against Boris Spassky in Reykjavík.
The fork is a tactic in which one piece attacks two or more enemy pieces at the same time.
Chess Olympiads are team competitions in which national teams play against one another.
Correspondence chess is played by exchanging moves over long periods, traditionally by post.
Magnus Carlsen reached the highest rating in history and held the world title from 2013 to 2023.
Online platforms now host millions of chess games every day.
Pawn structure strongly influences long-term plans, as doubled or isolated pawns can become weaknesses.
""")

_bank("general", "geology",
      ["Geology", "Plate tectonics",
       "Rocks and minerals", "The structure of the Earth"], """
Geology is the study of the Earth's solid materials, its structure and the processes that shape it over time.
Rocks are classified as igneous, sedimentary or metamorphic depending on how they formed.
Igneous rocks such as granite and basalt crystallise from molten rock.
Sedimentary rocks form from layers of particles that are compacted and cemented over long periods.
Metamorphic rocks form when existing rocks are transformed by heat and pressure without melting.
The theory of plate tectonics explains that the Earth's outer shell is broken into plates that move slowly over the mantle.
Alfred Wegener proposed continental drift in 1912, but the idea was widely accepted only after evidence from the seafloor emerged in the 1960s.
Earthquakes occur when stress built up along faults is suddenly released.
Volcanoes form where molten rock reaches the surface, often at plate boundaries or above hotspots.
The Earth is divided into a crust, a mantle, an outer core of liquid metal and a solid inner core.
The Mohs scale ranks minerals by hardness from talc at one to diamond at ten.
Fossils preserved in sedimentary layers help geologists date rocks and reconstruct ancient environments.
Radiometric dating uses the steady decay of radioactive isotopes to estimate the ages of rocks.
The Himalayas were raised by the collision of the Indian plate with the Eurasian plate.
Glaciers carve U-shaped valleys and leave behind ridges of rock debris called moraines.
The rock cycle describes how rocks are continually broken down, reformed and recycled.
Mid-ocean ridges are underwater mountain chains where new oceanic crust is created.
Geologists map rock formations to locate resources such as groundwater, metals and building stone.
James Hutton argued in the eighteenth century that the Earth was shaped by slow processes acting over immense spans of time.
Erosion by wind, water and ice wears down mountains and carries sediment to the sea.
The geological time scale divides Earth's history of some 4.5 billion years into eons, eras, periods and epochs.
Minerals are naturally occurring inorganic solids with a definite chemical composition and crystal structure.
""")

_bank("general", "film",
      ["Cinema", "The history of film",
       "Film production", "Film genres"], """
Film, or cinema, is an art form that uses moving images, usually accompanied by sound, to tell stories.
The Lumière brothers held one of the first public film screenings in Paris in December 1895.
The Jazz Singer, released in 1927, was the first feature-length film with synchronised dialogue sequences.
Hollywood became the centre of the American film industry in the 1910s, helped by its sunny climate and varied landscapes.
A director guides the creative vision of a film, working with the actors, the cinematographer and the editor.
Editing arranges shots into sequences, shaping rhythm, continuity and meaning.
Technicolor popularised colour films in the 1930s with productions such as The Wizard of Oz.
Italian neorealism after the Second World War filmed ordinary people in real locations.
The French New Wave of the late 1950s broke with conventional storytelling through jump cuts and handheld cameras.
The Academy Awards, first presented in 1929, honour achievement in the film industry.
Film genres include westerns, musicals, thrillers, comedies, science fiction and documentaries.
Alfred Hitchcock was known as the master of suspense for films such as Psycho and Vertigo.
Digital cameras and editing software have largely replaced celluloid in modern production.
Animation creates the illusion of movement from a sequence of drawings, models or computer images.
A screenplay sets out a film's dialogue, action and scene descriptions.
Film festivals such as those in Cannes, Venice and Berlin showcase new work and award prizes.
Streaming services have changed how audiences watch films and how studios release them.
Bollywood, based in Mumbai, produces a large number of Hindi-language films each year.
The cinematographer is responsible for lighting, camera movement and the visual look of a film.
Film scores by composers such as John Williams and Ennio Morricone became famous in their own right.
Akira Kurosawa's Seven Samurai influenced many later action films and westerns.
Film archives work to restore old films and protect them from decay.
The 1995 thriller Outbreak imagined a fictional disease sweeping through a small Californian town.
""")

_bank("general", "aviation",
      ["Aviation", "How aeroplanes fly",
       "The history of flight", "Commercial air travel"], """
Aviation covers the design, development, production and operation of aircraft.
The Wright brothers made the first controlled, sustained powered flight in a heavier-than-air aircraft in December 1903.
An aircraft wing generates lift because air flowing around its shape creates lower pressure above the wing than below it.
The four forces acting on an aircraft in flight are lift, weight, thrust and drag.
Jet engines compress incoming air, burn fuel in it and expel the hot gases to produce thrust.
Charles Lindbergh made the first solo nonstop transatlantic flight in 1927.
The Boeing 747, which entered service in 1970, was the first wide-body airliner and made long-distance air travel more affordable.
Concorde carried passengers at twice the speed of sound from 1976 until 2003.
Air traffic control keeps aircraft safely separated in the air and on the ground.
Pilots use instruments and navigation systems to fly in cloud and at night.
The cockpit voice recorder and the flight data recorder, known as black boxes, help investigators understand accidents.
Airports are organised into terminals, runways, taxiways and aprons.
Helicopters generate lift with rotating blades, allowing them to hover and take off vertically.
Commercial aviation is one of the safest forms of transport per kilometre travelled.
Turbulence is caused by irregular air movement and is usually uncomfortable rather than dangerous.
The International Civil Aviation Organization sets standards for air navigation worldwide.
Low-cost airlines expanded rapidly in Europe from the 1990s, lowering fares on many routes.
Aircraft are built from lightweight materials such as aluminium alloys and carbon-fibre composites.
Amelia Earhart was the first woman to fly solo across the Atlantic, in 1932.
Flight simulators allow pilots to train for emergencies without leaving the ground.
Sustainable aviation fuels are being developed to reduce the climate impact of flying.
The hub-and-spoke model routes passengers through major airports to connect many destinations.
""")

_bank("general", "photography",
      ["Photography", "Camera exposure",
       "The history of photography", "Digital photography"], """
Photography is the art and practice of creating images by recording light.
Joseph Nicéphore Niépce made the oldest surviving camera photograph in the 1820s.
The daguerreotype, announced in 1839, was the first commercially successful photographic process.
Exposure is controlled by three settings: aperture, shutter speed and sensitivity.
A wide aperture produces a shallow depth of field, leaving the background softly blurred.
Fast shutter speeds freeze motion, while slow speeds can blur moving subjects.
Digital cameras record images on electronic sensors rather than on film.
The rule of thirds is a compositional guideline that places key elements along imaginary lines dividing the frame.
Prime lenses have a fixed focal length, while zoom lenses cover a range of focal lengths.
The golden hour, shortly after sunrise and before sunset, gives warm and soft natural light.
George Eastman's Kodak camera of 1888 made photography accessible to the general public.
Photojournalism documents news events and has shaped public opinion on wars and disasters.
Raw image files store unprocessed sensor data, giving photographers more flexibility when editing.
Smartphone cameras now use computational techniques to combine several exposures into one image.
Black-and-white photography remains popular for its emphasis on form, texture and contrast.
Ansel Adams was known for his dramatic black-and-white landscapes of the American West.
Tripods keep a camera steady during long exposures.
Portrait photographers often use diffused light to flatter the subject's features.
Film photography has seen a revival among enthusiasts who value its look and its slower pace.
Image stabilisation reduces blur caused by small movements of the camera.
Street photography captures candid moments of everyday life in public places.
Colour photography became widespread after the introduction of Kodachrome film in 1935.
""")

# ---------------------------------------------------------------------------
# BIOMED NEGATIVE banks (label 0): general biology and general medicine
# ---------------------------------------------------------------------------
_bank("biomed_negative", "botany",
      ["Botany", "Plant structure and function",
       "Photosynthesis", "Flowering plants"], """
Botany is the scientific study of plants, including their structure, growth, reproduction and classification.
Photosynthesis converts light energy, water and carbon dioxide into sugars, releasing oxygen as a by-product.
Chlorophyll, the green pigment in leaves, absorbs mainly red and blue light.
Flowering plants, or angiosperms, are the largest group of land plants, with several hundred thousand species.
Roots anchor a plant and absorb water and minerals from the soil.
Xylem carries water upward from the roots, while phloem transports sugars throughout the plant.
Stomata are tiny pores on leaves that open and close to regulate gas exchange and water loss.
Pollination transfers pollen from the male parts of a flower to the female parts, often with the help of insects or wind.
Seeds contain an embryo and a store of food that supports early growth after germination.
Gymnosperms such as pines and firs bear naked seeds, usually on cones.
Carl Linnaeus introduced the two-part naming system for plants in Species Plantarum in 1753.
Mosses and liverworts lack true vascular tissue and usually grow in damp places.
Plants defend themselves against fungi and plant-eating insects with waxy cuticles, thorns and bitter chemical compounds.
Ferns reproduce by spores produced on the undersides of their fronds.
Plant hormones such as auxin and gibberellin regulate growth, flowering and fruit development.
Phototropism is the tendency of shoots to grow toward a source of light.
Deciduous trees shed their leaves each year, while evergreens keep their foliage through the winter.
Cacti and other succulents store water in thick tissues, which adapts them to dry habitats.
The cell walls of plants are made largely of cellulose, the most abundant organic polymer on Earth.
Botanical gardens such as Kew in London maintain living collections for research and conservation.
Carnivorous plants like the Venus flytrap supplement their nutrition by trapping insects.
Annual plants complete their life cycle in one year, while perennials live for many years.
The giant sequoias of California are among the largest living organisms by volume.
""")

_bank("biomed_negative", "zoology",
      ["Zoology", "Animal behaviour",
       "Vertebrates and invertebrates", "Mammals and birds"], """
Zoology is the branch of biology that studies animals, including their anatomy, behaviour, evolution and distribution.
Vertebrates have a backbone and include fish, amphibians, reptiles, birds and mammals.
Invertebrates, animals without a backbone, make up about ninety-five per cent of known animal species.
Insects are the most diverse group of animals, with more than a million described species.
Mammals are distinguished by hair and by mammary glands that produce milk for their young.
Birds evolved from small feathered dinosaurs during the Jurassic period.
Many birds migrate thousands of kilometres each year between breeding and wintering grounds.
The blue whale is the largest animal known to have lived, reaching lengths of about thirty metres.
Octopuses are noted for their intelligence, their camouflage and their ability to solve simple puzzles.
Honeybees communicate the location of food through a movement known as the waggle dance.
Amphibians such as frogs usually begin life in water as larvae before transforming into air-breathing adults.
Social insects such as ants and termites live in colonies with specialised castes.
Echolocation allows bats and dolphins to navigate and hunt by listening to the echoes of their calls.
Reptiles are cold-blooded and regulate their body temperature by moving between sun and shade.
Konrad Lorenz studied imprinting in young geese, which follow the first moving object they see.
Coral reefs are built by colonies of tiny animals called polyps that secrete skeletons of calcium carbonate.
Marsupials such as kangaroos give birth to small young that continue developing in a pouch.
Predators and prey often evolve together, with adaptations for hunting matched by adaptations for escape.
Field zoologists use radio collars and camera traps to follow animals in the wild.
The platypus is one of the few mammals that lay eggs.
Many fish species change colour during the breeding season to attract mates.
Hibernation allows animals such as hedgehogs and dormice to survive winter by lowering their metabolic rate.
""")

_bank("biomed_negative", "ecology",
      ["Ecology", "Ecosystems",
       "Food webs", "Biodiversity and conservation"], """
Ecology is the study of how organisms interact with one another and with their physical environment.
An ecosystem includes all the living things in an area together with non-living components such as soil, water and climate.
Food chains describe who eats whom, from producers such as plants to herbivores and carnivores.
Food webs link many food chains and show the complex feeding relationships in a community.
Decomposers break down dead material and return nutrients to the soil.
Keystone species have an outsized effect on their ecosystem relative to their abundance.
The reintroduction of wolves to Yellowstone National Park in 1995 changed the behaviour of elk and the growth of riverside vegetation.
Biodiversity refers to the variety of life at the level of genes, species and ecosystems.
Habitat loss is the leading cause of biodiversity decline worldwide.
Invasive species are organisms introduced to new areas where they spread and harm native wildlife.
Ecological succession is the gradual change in species composition after a disturbance such as a fire.
Tropical rainforests contain more than half of the world's terrestrial species while covering a small fraction of the land.
The carbon cycle moves carbon between the atmosphere, the oceans, soils and living organisms.
Mutualism is a relationship in which both species benefit, as with flowers and their pollinators.
Carrying capacity is the largest population that an environment can support over the long term.
Wetlands filter water, store floodwater and provide habitat for many birds.
Rachel Carson's 1962 book Silent Spring drew public attention to the ecological effects of pesticides.
Predator–prey cycles, such as those of the lynx and the snowshoe hare, show regular rises and falls in population.
Nitrogen from fertilisers can run off into lakes and coastal waters, causing algal blooms.
Wildlife corridors connect fragments of habitat so that animals can move between them.
Island biogeography explains why larger islands closer to the mainland tend to hold more species.
Pollinators such as bees, butterflies and hoverflies are essential to many crops and wild plants.
""")

_bank("biomed_negative", "human_anatomy",
      ["Human anatomy", "The skeletal system",
       "The human nervous system", "Organs of the body"], """
Human anatomy is the study of the structure of the human body and its parts.
The adult human skeleton usually consists of 206 bones.
The femur, or thigh bone, is the longest and strongest bone in the body.
The heart has four chambers: two atria that receive blood and two ventricles that pump it out.
The lungs contain millions of tiny air sacs called alveoli, where oxygen passes into the blood.
The brain is divided into the cerebrum, the cerebellum and the brainstem.
The spinal cord carries signals between the brain and the rest of the body.
Skeletal muscles are attached to bones by tendons, while ligaments connect bones to one another.
The liver is the largest internal organ and processes nutrients, stores energy and breaks down drugs.
The kidneys filter the blood to remove waste products and regulate the balance of fluid and salt.
The thymus, a small organ behind the breastbone, is where T cells mature during childhood.
The skin is the body's largest organ and acts as a barrier, regulates temperature and senses touch.
The digestive tract runs from the mouth through the oesophagus and stomach to the intestines.
The small intestine is several metres long and absorbs most of the nutrients from food.
Andreas Vesalius published De humani corporis fabrica in 1543, founding modern anatomy.
The endocrine system consists of glands such as the thyroid and the adrenal glands that release hormones into the blood.
The eye focuses light onto the retina, where photoreceptor cells convert it into nerve signals.
Joints such as the knee and the hip allow movement between bones and are cushioned by cartilage.
The diaphragm is a dome-shaped muscle that contracts to draw air into the lungs.
Red blood cells carry oxygen using the iron-containing protein haemoglobin.
The inner ear contains the cochlea for hearing and the semicircular canals for balance.
Anatomical terms such as anterior, posterior, medial and lateral describe positions in the body.
The lymphatic system returns fluid from the tissues to the bloodstream and passes it through lymph nodes.
The spleen filters old red blood cells from the circulation and is part of the immune system.
""")

_bank("biomed_negative", "genetics_plants_animals",
      ["Genetics", "Mendelian inheritance",
       "Plant and animal breeding", "Heredity"], """
Genetics is the study of genes, genetic variation and heredity in living organisms.
Gregor Mendel's experiments with pea plants in the 1860s revealed the basic rules of inheritance.
Mendel showed that traits are passed on as discrete units, now called genes, that come in different versions called alleles.
A dominant allele masks the effect of a recessive allele when both are present.
Chromosomes are long strands of DNA packaged with proteins, and human cells have twenty-three pairs.
James Watson and Francis Crick proposed the double-helix structure of DNA in 1953, drawing on X-ray images made by Rosalind Franklin.
Meiosis produces egg and sperm cells with half the usual number of chromosomes.
Crossing over during meiosis shuffles genetic material between paired chromosomes.
Selective breeding of crops such as wheat and maize over thousands of years dramatically changed their size and yield.
The Green Revolution of the 1960s introduced high-yielding dwarf varieties of wheat and rice.
Dog breeds show how strong artificial selection can produce great variation within a single species.
Thomas Hunt Morgan's work on fruit flies showed that genes are carried on chromosomes.
Polygenic traits such as height are influenced by many genes as well as by the environment.
Hybrid vigour describes the improved growth often seen in the offspring of two distinct parent lines.
The Human Genome Project, completed in 2003, determined the sequence of human DNA.
Genetic linkage occurs when genes lie close together on the same chromosome and tend to be inherited together.
Epigenetics studies heritable changes in gene activity that do not involve changes to the DNA sequence.
Pedigree charts trace the inheritance of a trait through several generations of a family.
Barbara McClintock discovered transposable elements while studying the colour patterns of maize kernels.
Sex-linked traits, such as red-green colour blindness, are carried on the X chromosome.
Marker-assisted selection uses DNA markers to speed up the breeding of crops and livestock.
Polyploidy, having more than two sets of chromosomes, is common in plants such as wheat and strawberries.
""")

_bank("biomed_negative", "nutrition",
      ["Nutrition", "A balanced diet",
       "Vitamins and minerals", "Dietary fibre and health"], """
Nutrition is the science of how food and its components support growth, health and the functions of the body.
Macronutrients are carbohydrates, proteins and fats, which provide energy and building materials.
Micronutrients such as vitamins and minerals are needed in small amounts but are essential for health.
Dietary fibre, found in whole grains, legumes, fruits and vegetables, supports digestion and helps control blood sugar.
Vitamin D helps the body absorb calcium and is produced in the skin when it is exposed to sunlight.
Iron deficiency is the most common nutritional deficiency worldwide and can cause anaemia.
Scurvy, caused by a lack of vitamin C, was once common among sailors on long voyages.
Proteins are made of amino acids, nine of which are essential because the body cannot make them.
Unsaturated fats from sources such as olive oil, nuts and fish are generally healthier than saturated fats.
Added sugars contribute energy but few nutrients and are linked to tooth decay and weight gain.
The Mediterranean diet emphasises vegetables, fruit, whole grains, olive oil and fish.
Hydration matters because water makes up more than half of body weight.
Yoghurt and other fermented foods contain live bacteria that are often marketed as supporting gut health.
Calories measure the energy content of food, and energy balance determines weight change over time.
Folate intake before and during early pregnancy reduces the risk of neural tube defects.
Food labels list nutrients per serving to help consumers compare products.
Excess salt intake is associated with high blood pressure.
Dietitians are trained professionals who give evidence-based advice about diet and health.
Omega-3 fatty acids found in oily fish play a role in the health of the brain and the heart.
Highly processed foods tend to be high in energy, salt, sugar and fat.
Iodine deficiency can cause goitre, and iodised salt has greatly reduced it in many countries.
Children need adequate energy and protein for growth, and undernutrition can cause stunting.
Eating a wide variety of foods is the simplest way to obtain the full range of nutrients.
Zinc and vitamin A are needed for a healthy immune system, and deficiencies are common in low-income countries.
""")

_bank("biomed_negative", "nursing_care",
      ["Nursing care", "Clinical nursing practice",
       "Patient care on the ward", "The role of the nurse"], """
Nursing is a healthcare profession focused on the care of individuals, families and communities to help them attain and maintain health.
Florence Nightingale shaped modern nursing during the Crimean War in the 1850s and founded a nursing school in London in 1860.
Nurses regularly record vital signs, including temperature, pulse, breathing rate and blood pressure.
Pressure ulcers can develop when patients lie in one position for long periods, so nurses help them change position regularly.
Hand hygiene before and after contact with each patient is a basic element of safe clinical practice.
Care plans set out a patient's needs, goals and the nursing actions that will address them.
Nurses follow infection prevention policies, such as wearing gloves and aprons when handling body fluids.
Pain assessment scales ask patients to rate their pain so that treatment can be adjusted.
Handover between shifts passes essential information about each patient to the incoming team.
Nurses play a central role in patient education, helping people understand their conditions and medications.
Falls prevention includes assessing risk, keeping floors clear and making sure that call bells are within reach.
Intensive care nurses look after critically ill patients using monitors and life-support equipment.
Community nurses visit patients at home to provide wound care, medication support and health advice.
Nurse practitioners have advanced training that allows them to diagnose conditions and prescribe treatments.
Fluid balance charts compare what a patient drinks and receives intravenously with what they pass.
Palliative care nurses focus on comfort and quality of life for people with serious illness.
Medication rounds follow checks on the right patient, drug, dose, route and time.
Early warning scores combine vital signs into a single number that helps staff spot patients who are deteriorating.
Nursing documentation must be accurate, timely and legible because it forms part of the legal record.
Mental health nurses support people with conditions such as depression, anxiety and psychosis.
Compassion, communication and clinical judgement are widely described as core nursing skills.
Staffing ratios, the number of patients per nurse, have been linked to patient outcomes in many studies.
Midwives provide care during pregnancy, labour and the period after birth.
Nurses give prescribed antibiotics at the scheduled times and watch for side effects such as rashes or diarrhoea.
""")

_bank("biomed_negative", "cardiology",
      ["Cardiology", "Heart disease",
       "Hypertension", "The cardiovascular system"], """
Cardiology is the branch of medicine that deals with disorders of the heart and blood vessels.
Coronary artery disease occurs when fatty plaques narrow the arteries that supply the heart muscle.
A heart attack, or myocardial infarction, happens when blood flow to part of the heart muscle is blocked.
High blood pressure, or hypertension, often has no symptoms but increases the risk of stroke and heart failure.
An electrocardiogram records the electrical activity of the heart using electrodes placed on the skin.
Atrial fibrillation is an irregular heart rhythm that increases the risk of stroke.
Heart failure means that the heart cannot pump enough blood to meet the body's needs.
Statins lower the level of cholesterol in the blood and reduce the risk of heart attacks.
Echocardiography uses ultrasound to create moving images of the heart's chambers and valves.
Angioplasty widens narrowed coronary arteries, often by placing a small mesh tube called a stent.
Regular physical activity, not smoking and a healthy diet lower the risk of cardiovascular disease.
Pacemakers are small devices that send electrical pulses to keep the heart beating at a suitable rate.
Heart valves keep blood flowing in one direction, and diseased valves can be repaired or replaced.
Cardiac rehabilitation programmes help patients recover through exercise, education and support.
The Framingham Heart Study, begun in 1948, identified major risk factors for heart disease.
Cardiovascular disease is the leading cause of death worldwide.
Chest pain called angina occurs when the heart muscle receives too little oxygen.
Defibrillators deliver an electric shock to restore a normal rhythm during cardiac arrest.
Congenital heart defects are structural problems that are present from birth.
Blood pressure readings are given as two numbers, the systolic pressure over the diastolic pressure.
Willem Einthoven received the Nobel Prize in 1924 for inventing the electrocardiograph.
Coronary artery bypass surgery uses blood vessels from elsewhere in the body to route blood around blockages.
""")

_bank("biomed_negative", "dentistry",
      ["Dentistry", "Oral health",
       "The structure of teeth", "Dental care"], """
Dentistry is the branch of medicine concerned with the teeth, the gums and the mouth.
Adults usually have thirty-two permanent teeth, including four wisdom teeth.
Enamel, the outer layer of the tooth crown, is the hardest substance in the human body.
Beneath the enamel lies dentine, and at the centre of each tooth is the pulp, which contains nerves and blood vessels.
Tooth decay occurs when acids produced from dietary sugars by plaque bacteria dissolve the enamel.
Fluoride strengthens enamel and makes teeth more resistant to decay.
Dentists sometimes prescribe antibiotics for a dental abscess, although removing the source of the infection is the main treatment.
Brushing twice a day with fluoride toothpaste and cleaning between the teeth are the foundations of oral hygiene.
Gum disease begins as gingivitis, with red and bleeding gums, and can progress to periodontitis.
Fillings restore teeth damaged by decay using materials such as composite resin or amalgam.
Root canal treatment removes damaged pulp from inside a tooth and seals the space.
Orthodontists use braces and clear aligners to straighten teeth and correct the bite.
Dental implants are titanium posts placed in the jawbone to support replacement teeth.
Children's milk teeth begin to appear at around six months of age.
Regular dental check-ups allow early detection of problems such as decay and oral cancer.
Dental X-rays reveal decay between the teeth and problems below the gum line.
Sugary drinks between meals are a major cause of tooth decay in children.
Community water fluoridation has been described as a major public health achievement of the twentieth century.
Dental hygienists clean teeth professionally and advise patients on care at home.
Bruxism, or teeth grinding, often occurs during sleep and can wear down enamel.
Crowns cover and protect teeth that have been weakened by large fillings or fractures.
Pierre Fauchard, an eighteenth-century French surgeon, is often called the father of modern dentistry.
Dental anxiety is common, and many practices offer techniques to help nervous patients relax.
""")

_bank("biomed_negative", "physiotherapy",
      ["Physiotherapy", "Rehabilitation after injury",
       "Exercise therapy", "Musculoskeletal health"], """
Physiotherapy helps restore movement and function when someone is affected by injury, illness or disability.
Physiotherapists assess posture, strength, flexibility and movement patterns before planning treatment.
Exercise therapy builds strength and endurance and is central to most rehabilitation programmes.
Manual therapy includes techniques such as joint mobilisation and soft-tissue massage.
After knee replacement surgery, physiotherapy helps patients regain their range of motion and walk confidently.
Lower back pain is one of the most common reasons people see a physiotherapist.
Sports physiotherapists treat injuries such as sprained ankles, muscle strains and tendon problems.
Balance training reduces the risk of falls among older adults.
Respiratory physiotherapy helps patients clear secretions and improve their breathing after surgery.
Neurological physiotherapy supports people recovering from stroke or living with conditions such as Parkinson's disease.
Hydrotherapy uses exercises in warm water, where buoyancy reduces the strain on the joints.
Ergonomic advice helps office workers set up desks and chairs to reduce neck and shoulder pain.
Progressive loading gradually increases the demands on healing tissues so that they adapt and strengthen.
Physiotherapists often teach home exercise programmes so that patients can continue to progress between sessions.
The profession developed rapidly during the First World War to rehabilitate injured soldiers.
Gait analysis examines how a person walks in order to identify problems with movement.
Heat and ice are sometimes used to relieve pain and stiffness alongside exercise.
Pelvic floor physiotherapy helps people with continence problems, including women after childbirth.
Setting goals with patients, such as returning to work or sport, keeps rehabilitation focused and motivating.
Chronic pain management combines graded activity with education about how pain works.
Paediatric physiotherapists help children with developmental delays or conditions such as cerebral palsy.
Evidence from clinical trials increasingly guides the choice of physiotherapy treatments.
""")

_bank("biomed_negative", "orthopaedic_surgery",
      ["Orthopaedic surgery", "Fractures and their treatment",
       "Joint replacement", "Bone health"], """
Orthopaedic surgery deals with conditions of the bones, joints, ligaments, tendons and muscles.
A fracture is a break in a bone, ranging from a hairline crack to a complete break into several pieces.
Simple fractures are often treated with a plaster cast or splint that holds the bone still while it heals.
Complex fractures may need surgery to fix the bone with metal plates, screws or rods.
Hip replacement surgery replaces a damaged joint with an artificial one and is among the most successful operations in medicine.
John Charnley developed the modern low-friction hip replacement in England in the early 1960s.
Osteoarthritis is the gradual wearing of joint cartilage and is the most common reason for knee and hip replacement.
Arthroscopy allows surgeons to look inside a joint through small incisions using a camera.
Anterior cruciate ligament injuries are common in sports that involve sudden changes of direction.
Osteoporosis makes bones thin and fragile, increasing the risk of fractures in older people.
Scoliosis is a sideways curvature of the spine that often appears during adolescence.
Bones heal through stages in which a soft callus forms and is gradually replaced by hard bone.
X-rays are the most common imaging test for fractures, while MRI shows soft tissues in detail.
Carpal tunnel syndrome occurs when a nerve in the wrist is compressed, causing numbness in the hand.
Surgeons use general or regional anaesthesia depending on the operation and the patient's health.
Weight-bearing exercise and adequate calcium and vitamin D help maintain bone density.
Trauma surgeons treat serious injuries from road accidents and falls.
Rehabilitation after orthopaedic surgery usually involves physiotherapy to restore strength and movement.
Wilhelm Röntgen's discovery of X-rays in 1895 transformed the diagnosis of bone injuries.
Robotic systems are increasingly used to help position implants accurately during joint replacement.
Tennis elbow is an overuse condition affecting the tendons on the outside of the elbow.
Spinal fusion joins two or more vertebrae to reduce pain or correct deformity.
""")

_bank("biomed_negative", "mental_health",
      ["Mental health", "Depression and anxiety",
       "Psychotherapy", "Mental health services"], """
Mental health includes emotional, psychological and social well-being and affects how people think, feel and act.
Depression is a common mental disorder marked by persistent low mood and loss of interest in activities.
Anxiety disorders involve excessive worry or fear that interferes with daily life.
Cognitive behavioural therapy helps people identify and change unhelpful patterns of thinking and behaviour.
Antidepressant medications, such as selective serotonin reuptake inhibitors, are commonly prescribed for moderate to severe depression.
Bipolar disorder involves episodes of depression alternating with periods of elevated mood called mania.
Schizophrenia is a serious mental illness that can involve hallucinations, delusions and disorganised thinking.
Stigma can prevent people from seeking help for mental health problems.
Regular exercise, sleep and social connection are associated with better mental health.
Post-traumatic stress disorder can develop after a person experiences or witnesses a traumatic event.
Psychiatrists are medical doctors who specialise in mental health and can prescribe medication.
Clinical psychologists assess mental health conditions and provide talking therapies.
Mindfulness-based approaches teach people to pay attention to the present moment without judgement.
Early intervention services aim to support young people experiencing a first episode of psychosis.
Eating disorders such as anorexia nervosa have some of the highest mortality rates of any mental illness.
Community mental health teams support people living at home with long-term conditions.
Workplace programmes increasingly include mental health first aid and employee assistance schemes.
Suicide prevention strategies combine crisis support, restrictions on access to means and public awareness.
Obsessive-compulsive disorder involves unwanted intrusive thoughts and repetitive behaviours.
The Diagnostic and Statistical Manual of Mental Disorders is widely used to classify mental health conditions.
Peer support workers draw on their own experience of mental illness to help others.
Many mental health conditions first appear in adolescence or early adulthood.
""")

# ---------------------------------------------------------------------------
# LEXICAL TRAP banks (label 0): shared vocabulary, different topic
# ---------------------------------------------------------------------------
_bank("lexical_trap", "cell_phones",
      ["Mobile phones", "Cellular networks",
       "The smartphone era", "How cell phones work"], """
A cell phone, or mobile phone, is a portable telephone that connects to a network of radio base stations.
The network is called cellular because its coverage area is divided into small regions called cells, each served by its own antenna.
As a caller moves, the call is handed from one cell to the next without interruption.
Martin Cooper of Motorola made the first call from a handheld cell phone in New York in 1973.
Early cell phones were bulky, expensive devices that were nicknamed bricks.
Text messaging became hugely popular in the late 1990s, especially among young people.
The launch of the iPhone in 2007 helped popularise touchscreen smartphones.
Each generation of mobile networks, from 2G to 5G, has brought faster data speeds.
Lithium-ion batteries power most cell phones and gradually lose capacity after many charging cycles.
Mobile operators build cell towers and small cells to extend coverage and capacity in busy areas.
A SIM card identifies a subscriber to the mobile network.
Smartphones combine a phone with a camera, a web browser, maps and thousands of apps.
Mobile payments have become widespread in many countries, letting people pay by tapping their phones.
Signal strength is often shown as bars on the screen and depends on the distance from the nearest cell site.
Roaming lets subscribers use their phones on networks in other countries.
Screen time on cell phones has become a topic of debate among parents and teachers.
Recycling schemes recover valuable metals from old phones.
Cell phone cameras have largely replaced compact cameras for everyday photography.
Dual-SIM phones allow users to keep two numbers on one device.
Airplane mode switches off a phone's radios while leaving its other functions available.
Foldable phones use flexible displays that bend along a hinge.
In many countries emergency calls can be made from a cell phone even when it has no SIM card.
""")

_bank("lexical_trap", "computer_malware",
      ["Computer virus", "Malware",
       "Ransomware attacks", "Protecting computers from malicious software"], """
A computer virus is a type of malicious program that copies itself by inserting its code into other programs or files.
Malware is a general term for software designed to disrupt, damage or gain unauthorised access to computer systems.
The Morris worm of 1988 was one of the first programs to spread widely across the early internet.
Ransomware encrypts a victim's files and demands payment for the key needed to unlock them.
The WannaCry ransomware outbreak of 2017 affected hundreds of thousands of computers, including systems in hospitals.
Antivirus software scans files for known signatures and suspicious behaviour.
Phishing emails trick recipients into opening attachments or revealing passwords.
A trojan disguises itself as legitimate software to persuade users to install it.
Keeping operating systems and applications patched closes many of the holes that malware exploits.
Botnets are networks of compromised computers that are controlled remotely by attackers.
Once a machine is infected, the malicious code may steal data, record keystrokes or use the computer to attack others.
Security researchers study malware samples in isolated sandboxes to understand how they behave.
Fred Cohen coined the term computer virus in 1983 in his research on self-replicating programs.
Macro viruses spread through documents created in office software.
Regular backups stored offline allow organisations to recover from ransomware without paying.
Zero-day vulnerabilities are flaws unknown to the software vendor, leaving no time to prepare a patch.
Stuxnet, discovered in 2010, targeted industrial control systems.
Firewalls filter network traffic to block connections that do not meet security rules.
Two-factor authentication makes stolen passwords much less useful to attackers.
Cybersecurity teams practise incident response so that they can contain an infection of their network quickly.
Email filters quarantine suspicious messages before they reach users' inboxes.
The ILOVEYOU worm of 2000 spread through email attachments and caused billions of dollars in damage.
""")

_bank("lexical_trap", "vectors_math_physics",
      ["Vector (mathematics and physics)", "Vector spaces",
       "Vectors in physics", "Linear algebra"], """
In mathematics and physics, a vector is a quantity that has both magnitude and direction.
Vectors are often drawn as arrows, with the length showing the magnitude and the arrowhead showing the direction.
Velocity, force and acceleration are vector quantities, while mass and temperature are scalars.
Two vectors can be added by placing them head to tail, a rule closely related to the parallelogram law.
The dot product of two vectors is a scalar that measures how closely they point in the same direction.
The cross product of two vectors in three dimensions gives a third vector perpendicular to both.
A vector space is a collection of objects that can be added together and multiplied by numbers according to certain rules.
A basis of a vector space is a set of linearly independent vectors that spans the whole space.
Matrices represent linear transformations that map vectors to other vectors.
Eigenvectors are vectors whose direction is unchanged by a given linear transformation.
In computer graphics, vectors describe positions, directions and surface normals.
Vector graphics store images as shapes defined by coordinates, so they can be scaled without losing sharpness.
Unit vectors have a magnitude of one and are used to indicate direction.
Josiah Willard Gibbs and Oliver Heaviside developed modern vector analysis in the late nineteenth century.
Vector fields assign a vector to every point in space, as with the velocity of a flowing fluid.
In machine learning, words and documents are often represented as vectors of numbers called embeddings.
The magnitude of a vector is found from its components using the Pythagorean theorem.
Electric and magnetic fields are described as vector fields in Maxwell's equations.
Column vectors and row vectors are matrices with a single column or a single row.
The gradient of a function is a vector pointing in the direction of steepest increase.
Projectile motion is analysed by splitting the velocity vector into horizontal and vertical components.
Vector processors perform the same operation on many data elements at once.
""")

_bank("lexical_trap", "arts_culture",
      ["Culture and the arts", "Cultural heritage",
       "Corporate culture", "The arts in society"], """
Culture encompasses the arts, customs, beliefs and institutions shared by a group of people.
Museums, theatres and libraries are among the main institutions of cultural life in most cities.
The European Capital of Culture programme designates cities each year to showcase their artistic life.
Pop culture refers to the music, films, fashion and trends that are widely enjoyed at a given time.
Corporate culture describes the shared values and habits that shape how people work within an organisation.
UNESCO maintains lists of intangible cultural heritage that include traditional music, dance and crafts.
Cultural policy covers public funding for the arts, the protection of heritage and support for the creative industries.
The Harlem Renaissance of the 1920s was a flowering of African American literature, music and art.
Street art has moved from the margins into galleries and city-sponsored mural festivals.
Cultural exchange programmes bring artists and students from different countries together.
Festivals such as the Edinburgh Festival Fringe attract performers and audiences from around the world.
Anthropologists study culture by observing how communities live, speak and celebrate.
Arts education in schools is linked to creativity and confidence among pupils.
The rise of streaming platforms has changed the economics of music and television.
A company with a healthy culture encourages open feedback and collaboration.
Subcultures, such as punk or skateboarding, define themselves partly in opposition to the mainstream.
Public broadcasters in many countries have a mandate to promote national culture and languages.
Literary prizes such as the Booker Prize draw attention to new fiction.
Cultural tourism brings visitors to historic sites, galleries and performances.
Craft traditions such as weaving and pottery carry techniques passed down across generations.
Critics debate whether digital culture has widened access to the arts or narrowed attention spans.
Cultural institutions increasingly digitise their collections to reach online audiences.
""")

_bank("lexical_trap", "network_hosts",
      ["Host (network)", "Hosts and servers",
       "Web hosting", "IP addressing"], """
In computer networking, a host is any computer or device connected to a network that has a network address.
Each host on an IP network is identified by an IP address, which routers use to deliver packets.
A hostname is a human-readable label that the Domain Name System translates into an IP address.
Web hosting companies rent server space so that organisations can publish websites.
Shared hosting places many websites on one server, while dedicated hosting gives a customer a whole machine.
The hosts file on a computer maps hostnames to addresses before the system queries a DNS server.
A virtual host allows one server to serve several websites with different domain names.
Cloud providers let customers launch virtual machines as hosts in data centres around the world.
A subnet groups hosts that share a common address prefix.
Host-based firewalls run on individual machines and filter the traffic to and from each machine.
The localhost address refers to the computer that the user is currently working on.
IPv6 was introduced because the older IPv4 address space could not accommodate the growing number of hosts on the internet.
Network administrators use monitoring tools to check whether hosts are reachable and responding.
A host can act as a client, a server or both, depending on the application.
The Dynamic Host Configuration Protocol assigns addresses automatically to hosts joining a network.
Virtualisation software lets a single physical host run many guest operating systems.
Uptime guarantees are a key feature of commercial hosting contracts.
Content delivery networks cache copies of websites on hosts close to users.
A bastion host is a hardened server that provides controlled access to a private network.
Self-hosting means running one's own services, such as email or file storage, instead of using a provider.
Hosting costs depend on storage, bandwidth and the level of technical support included.
The ping utility sends small messages to a host to test whether it can be reached.
""")

_bank("lexical_trap", "tv_hosts",
      ["Television presenter", "Talk show hosts",
       "Game show hosts", "Careers in broadcasting"], """
A television host, or presenter, introduces programmes, interviews guests and guides the audience through a show.
Late-night talk shows in the United States are built around the host's opening monologue and celebrity interviews.
Johnny Carson hosted The Tonight Show for thirty years, from 1962 to 1992.
Game show hosts explain the rules, keep the pace lively and build tension before each answer is revealed.
Oprah Winfrey's daytime talk show ran nationally for twenty-five seasons and made her one of the most influential figures in the media.
Awards ceremonies such as the Oscars often choose a comedian as host.
News anchors read the main bulletins, while reporters deliver stories from the field.
Radio hosts build loyal audiences through regular morning and drive-time programmes.
A good host listens closely and asks follow-up questions that draw out the guests.
Co-hosts share presenting duties and often develop an on-screen rapport that audiences enjoy.
Podcast hosts have become celebrities in their own right as the medium has grown.
Children's television presenters must explain ideas simply and keep young viewers engaged.
Many hosts began their careers in local radio or regional television.
Cooking shows turned chefs into hosts with large followings.
Live broadcasts require hosts to handle technical problems and unexpected moments calmly.
Reality competition shows rely on hosts to announce results and manage the drama of eliminations.
Sports presenters lead the coverage before and after matches, joined by former players as pundits.
Hosting a telethon involves long hours on air encouraging viewers to donate to charity.
Teleprompters display scripts so that hosts can read while appearing to look at the audience.
The host of a quiz show must stay neutral while contestants compete for prizes.
Breakfast television hosts present a mix of news, weather, lifestyle features and interviews.
Guest hosts often fill in when a regular presenter is on holiday.
""")

_bank("lexical_trap", "vaccine_policy_news",
      ["Lawmakers clash over vaccination budget", "Vaccine makers' shares slide",
       "Parliament debates workplace mandate", "Audit criticises procurement contract"], """
Lawmakers clashed on Tuesday over how much of the health budget should go to the national vaccination programme.
The finance minister said the cost of the vaccine procurement contract would be spread over three fiscal years.
Shares in several vaccine manufacturers fell after one company reported lower-than-expected quarterly revenue.
Opposition parties accused the government of signing supply contracts without proper parliamentary scrutiny.
A poll published this week found that support for workplace vaccine mandates differs sharply between voters of the two main parties.
The health department's spending on vaccine storage facilities came under criticism in an audit report.
Analysts expect sales of seasonal vaccines to level off as demand returns to pre-pandemic patterns.
Several states have passed bills limiting the powers of local health boards to impose vaccination requirements.
The court ruled that the employer's vaccination policy did not breach the workers' employment contracts.
Campaign advertisements in the election focused heavily on the candidates' records on pandemic-era restrictions.
Negotiators from rich and poor nations disagreed over patent waivers and the sharing of manufacturing capacity.
The pharmaceutical group announced plans to cut jobs at its vaccine division as orders declined.
Critics argued that the public procurement process favoured large firms over smaller domestic producers.
The committee chair said the inquiry would examine how purchasing decisions were made and who was consulted.
Local councils said they had not received enough funding to run the school vaccination clinics planned for the autumn.
Economists estimated that the programme's cost was small compared with the output lost during lockdowns.
Protesters gathered outside the parliament building as members voted on the contested mandate bill.
The trade deal includes provisions to ease export restrictions on medical supplies, including vaccines.
The minister resigned after a report criticised the department's handling of a multibillion-dollar vaccine contract.
Insurers and employers lobbied for clarity on liability rules before the mandate took effect.
The central bank noted that the rollout of vaccines had improved consumer confidence and spending.
International donors pledged additional funds to the global alliance that buys vaccines for low-income countries.
""")

_bank("lexical_trap", "viral_social_media",
      ["Going viral", "Viral marketing",
       "Social media trends", "How memes spread online"], """
A post goes viral when it is shared rapidly and widely across social media platforms.
Viral marketing campaigns try to design content that audiences will want to pass on to their friends.
The Ice Bucket Challenge went viral in 2014 and raised large sums for research into motor neurone disease.
Memes are images, videos or phrases that are copied and adapted by many internet users.
Recommendation algorithms can push a video to millions of viewers within hours.
Influencers build large followings and are paid by brands to promote products.
Hashtags help users find posts on a particular topic and can turn a conversation into a trend.
A viral dance clip can send an old song back into the music charts.
Misinformation can spread quickly online because emotional content is shared more often than careful reporting.
Engagement metrics such as likes, comments and shares measure how audiences respond to a post.
Brands monitor social media so that they can respond quickly when a complaint starts to gain traction.
Short-form video platforms have made it easier for unknown creators to find huge audiences overnight.
Researchers describe the spread of online content using models borrowed from network science.
Some viral moments are carefully planned, while others happen entirely by accident.
Fact-checking organisations track claims that go viral and publish corrections.
Content that goes viral often combines surprise, humour or strong emotion.
Newsrooms now employ social media editors who decide how stories are promoted online.
Going viral can bring sudden fame, but it can also expose ordinary people to harassment.
The Harlem Shake videos of 2013 were an early example of a viral format copied by thousands of groups.
Platforms publish trending lists that show which topics are gaining attention.
Marketers measure the reach of a campaign by counting how many unique users saw it.
Online petitions sometimes go viral and collect hundreds of thousands of signatures in a few days.
""")

_bank("lexical_trap", "spreadsheet_bugs",
      ["Spreadsheet errors", "Software bugs",
       "Debugging", "When one bad formula infects a workbook"], """
A software bug is an error in a program that causes it to produce wrong results or behave unexpectedly.
Spreadsheet errors have caused costly mistakes in business, finance and academic research.
A single faulty formula can infect an entire workbook when other cells depend on its output.
The term bug was popularised after engineers found a moth trapped in a relay of the Harvard Mark II computer in 1947.
Circular references occur when a formula refers back to its own cell, directly or through a chain of other cells.
Auditing tools trace precedents and dependents to show how values flow through a spreadsheet.
Copying a formula with the wrong mix of relative and absolute references is a common source of errors.
A misplaced decimal point in an input cell can spread through every total in a financial model.
Finance teams sometimes describe an infection spreading through linked workbooks when bad data is copied from file to file.
Debugging is the process of finding and fixing bugs, often by reproducing the problem step by step.
Regression bugs appear when a change breaks something that used to work.
Hidden rows and columns can conceal data that quietly distorts summary figures.
Researchers found that gene names were being silently converted into dates by spreadsheet software.
Version history allows users to roll back a spreadsheet to a point before an error was introduced.
Many organisations now require peer review of important spreadsheet models before they are used for decisions.
Bug trackers record reported problems, their severity and progress toward a fix.
Data validation rules restrict what users can enter in a cell, preventing many input mistakes.
A bug in one shared template can contaminate dozens of reports prepared from it.
The Y2K problem arose because many programs stored years with only two digits.
Automated tests help catch bugs before software is released to users.
Lookup formulas can silently return wrong values when the lookup range is not sorted as expected.
Error values such as #REF! and #DIV/0! warn users that a formula cannot be evaluated.
Spreadsheet risk management treats important workbooks like software, with testing and documentation.
""")

_bank("lexical_trap", "germs_punk_band",
      ["The Germs", "Los Angeles punk",
       "Punk rock bands of the 1970s", "The story of the Germs"], """
The Germs were an American punk rock band formed in Los Angeles in 1976.
The best-known line-up of the Germs included the singer Darby Crash and the guitarist Pat Smear.
The only studio album by the Germs, known as (GI), was released in 1979 and produced by Joan Jett.
The Germs became known for chaotic live shows that often ended in confusion on stage.
Darby Crash, the singer of the Germs, died in December 1980, and the band broke up soon afterwards.
Pat Smear later toured with Nirvana as a guitarist and became a member of the Foo Fighters.
The 2007 film What We Do Is Secret dramatised the story of the Germs.
The Los Angeles punk scene of the late 1970s also included bands such as X, the Weirdos and the Screamers.
The documentary The Decline of Western Civilization, released in 1981, captured the city's punk scene, including the Germs.
Punk rock emerged in the mid-1970s as a raw, fast and stripped-down reaction against elaborate mainstream rock.
Many punk bands chose provocative or unsettling names to signal their break with mainstream taste.
Band names that borrow from science, with references to atoms, chemicals or microscopic life, are common in rock music.
Independent record labels such as Slash Records released much of the early West Coast punk catalogue.
Fanzines photocopied by fans spread news of gigs and new records before the internet.
Punk's do-it-yourself ethic encouraged fans to form their own bands with little training.
Reunion shows featuring surviving members of the Germs brought the band's songs to a new generation of listeners.
Hardcore punk developed in the early 1980s with even faster tempos and shorter songs.
Small clubs such as the Masque in Hollywood served as early venues for the scene.
Songs by the Germs were later covered by many alternative rock groups.
Music critics debate whether the influence of the Germs outweighed their limited recorded output.
Collectors prize original pressings of early punk singles, which were often released in small numbers.
The story of the Germs has been told in oral histories compiled from interviews with musicians and fans.
""")

# ---------------------------------------------------------------------------
# Document assembly
# ---------------------------------------------------------------------------
SCHEMA = pa.schema([
    ("id", pa.string()),
    ("text", pa.string()),
    ("label", pa.int8()),
    ("group", pa.string()),
    ("topic", pa.string()),
])

GENERAL_BANKS = sorted(n for n, b in BANKS.items() if b["group"] == "general")
MIXABLE_GROUPS = ("biomed_negative", "lexical_trap")


def _halves(items: list[str]) -> tuple[list[str], list[str]]:
    h = len(items) // 2
    return items[:h], items[h:]


def pools(bank: str, part: str) -> tuple[list[str], list[str]]:
    """(titles, sentences) of ``bank`` for part 'train', 'test' or 'all'."""
    b = BANKS[bank]
    if part == "all":
        return b["titles"], b["sentences"]
    t_tr, t_te = _halves(b["titles"])
    s_tr, s_te = _halves(b["sentences"])
    return (t_tr, s_tr) if part == "train" else (t_te, s_te)


def word_count(text: str) -> int:
    return len(text.split())


def make_doc(rng: random.Random, bank: str, part: str) -> str:
    """One document: a title line plus 5-16 sentences from one bank."""
    titles, sents = pools(bank, part)
    group = BANKS[bank]["group"]
    for _ in range(1000):
        mix = group in MIXABLE_GROUPS and rng.random() < MIX_IN_PROB
        k_max = min(MAX_SENTENCES - (1 if mix else 0), len(sents))
        k = rng.randint(MIN_SENTENCES, k_max)
        # keep the bank's sentence order so the prose reads naturally
        chosen = [sents[i] for i in sorted(rng.sample(range(len(sents)), k))]
        if mix:
            _, other = pools(rng.choice(GENERAL_BANKS), part)
            chosen.insert(rng.randint(1, len(chosen)), rng.choice(other))
        title = rng.choice(titles)
        if len(chosen) >= 9:
            cut = len(chosen) // 2 + rng.randint(-1, 1)
            body = " ".join(chosen[:cut]) + "\n\n" + " ".join(chosen[cut:])
        else:
            body = " ".join(chosen)
        text = f"{title}\n\n{body}"
        if MIN_WORDS <= word_count(text) <= MAX_WORDS:
            return text
    raise RuntimeError(f"could not draw a document of valid length from {bank}/{part}")


def draw_rows(rng: random.Random, plan: dict[str, int], part: str,
              seen: set[str]) -> list[dict]:
    rows = []
    for group in GROUP_ORDER:
        banks = sorted(n for n, b in BANKS.items() if b["group"] == group)
        rng.shuffle(banks)
        for i in range(plan[group]):
            bank = banks[i % len(banks)]
            for _ in range(100):
                text = make_doc(rng, bank, part)
                if text not in seen:
                    break
            else:
                raise RuntimeError(f"could not draw a fresh document from {bank}")
            seen.add(text)
            rows.append({"text": text, "label": GROUP_LABEL[group],
                         "group": group, "topic": bank})
    rng.shuffle(rows)
    return rows


def write_parquet(rows: list[dict], path: Path) -> None:
    for r in rows:
        n = word_count(r["text"])
        assert MIN_WORDS <= n <= MAX_WORDS, (r["id"], n)
        assert r["label"] == GROUP_LABEL[r["group"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    pq.write_table(table, path, compression="zstd")


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------
def balance_table(named_rows: list[tuple[str, list[dict]]]) -> str:
    head = "| file | " + " | ".join(GROUP_ORDER) + " | label 0 | label 1 | total | % label 1 |"
    sep = "|" + "---|" * (len(GROUP_ORDER) + 5)
    lines = [head, sep]
    for name, rows in named_rows:
        g = Counter(r["group"] for r in rows)
        l1 = sum(r["label"] for r in rows)
        lines.append(f"| {name} | " + " | ".join(str(g[x]) for x in GROUP_ORDER)
                     + f" | {len(rows) - l1} | {l1} | {len(rows)} | {100 * l1 / len(rows):.1f} |")
    return "\n".join(lines)


def length_table(named_rows: list[tuple[str, list[dict]]], sizes: dict[str, int]) -> str:
    lines = ["| file | docs | min words | max words | mean words | bytes |",
             "|---|---|---|---|---|---|"]
    for name, rows in named_rows:
        wc = [word_count(r["text"]) for r in rows]
        lines.append(f"| {name} | {len(rows)} | {min(wc)} | {max(wc)} | "
                     f"{sum(wc) / len(wc):.0f} | {sizes[name]:,} |")
    return "\n".join(lines)


def bank_table() -> str:
    lines = ["| group | label | bank (`topic`) | sentences | train half | test half | titles |",
             "|---|---|---|---|---|---|---|"]
    for group in GROUP_ORDER:
        for name in sorted(n for n, b in BANKS.items() if b["group"] == group):
            b = BANKS[name]
            tr, te = _halves(b["sentences"])
            lines.append(f"| {group} | {GROUP_LABEL[group]} | `{name}` | {len(b['sentences'])} | "
                         f"{len(tr)} | {len(te)} | {len(b['titles'])} |")
    return "\n".join(lines)


README_TEMPLATE = """\
# filterkit sample data

Every file in this directory except the script itself is produced by
`make_sample_data.py`, including this README: its tables are filled in by the
same run that writes the parquet files, so the numbers always match them.

```
.venv/bin/python sample_data/make_sample_data.py
```

The script uses only the Python standard library and `pyarrow`.  It uses a
fixed seed (`SEED = {seed}`) and only local `random.Random` instances (no global
random state), and writes parquet with `pyarrow.parquet.write_table(...,
compression="zstd")`, which stores no timestamps: running it twice produces
byte-identical files.

## Where the text comes from

**All text was written by the filterkit team.**  Nothing is scraped or copied
from other sources.  The writing is benign and at encyclopedia /
textbook-introduction level: history, classification, structure, general
mechanisms, epidemiology and public-health context.  It contains **no
operational content**: no protocols or step-by-step methods, no quantities or
growth conditions, no enhancement or synthesis information, nothing about
making any agent more harmful.

The text is organised into **sentence banks**, one per topic (the `topic`
column).  Each bank holds about 22 standalone, factual sentences plus four
titles, all defined inline in `make_sample_data.py`.  A document is one title
line followed by 5-16 sentences drawn from a single bank, kept in the bank's
order so the prose reads naturally (documents of 9+ sentences are split into
two paragraphs).  Every sentence is written to stand on its own.
Hard-negative documents (`biomed_negative`, `lexical_trap`) have a {mix_pct}%
chance of getting one extra sentence, inserted at a random position, from a
random `general` bank (for labelled files, from the same train/test half);
their label and
group are unchanged.  This keeps them from being perfectly topic-pure.  Every
document is {min_words}-{max_words} words long (counted by whitespace
splitting, title included); the script asserts this.

**Disjoint train/test halves.**  Each bank's sentence list and title list is
split in two: labelled *train* documents draw only from the first half and
labelled *test* documents only from the second half.  No test sentence (or
title) ever appears in a training document, so a classifier cannot score well
on `test` by memorising sentences.  Within a split, sentences do repeat across
documents of the same bank.

The demo shards draw from **both** halves, so they share sentences with
`labelled/test.parquet`.  Do not train a classifier on the shards and then
evaluate it on `labelled/test`; train on `labelled/train` only.

## Files

| path | how it is made |
|---|---|
| `labelled/train.parquet` | {n_train} documents drawn from the first half of every bank, `random.Random(SEED)` |
| `labelled/test.parquet` | {n_test} documents drawn from the second half of every bank, `random.Random(SEED + 1)` |
| `shards/demo-NNNN.parquet` | {n_shards} shards of {shard_size} documents; shard *i* uses `random.Random(SEED + 1000 * (i + 1))` and draws fresh documents from the whole bank (both halves) |
| `README.md` | this file, regenerated by the script |

Documents are unique within and across all files (a shard never contains a
text that is also in `labelled/`).  Rows are shuffled so that groups are
interleaved.  The demo shards are meant to look like a small slice of a
pretraining corpus: general text dominates and roughly one document in ten
is on the proxy topic.  Their labels are included so that end-to-end filtering
runs can be scored; a real corpus would have only `id` and `text`.

The curated blocklist used by the first filtering stage is not generated here;
it is hand-written and lives in `classifiers/blocklist/biorisk-proxy.txt`.

### Columns (all files)

| column | type | meaning |
|---|---|---|
| `id` | string | `train-00042`, `test-00007`, `demo-0002-00913` |
| `text` | string | title line, blank line, then one or two paragraphs |
| `label` | int8 | 1 = proxy topic (remove), 0 = keep |
| `group` | string | one of the five groups below |
| `topic` | string | name of the sentence bank the document came from |

### Groups

| group | label | meaning |
|---|---|---|
| `target` | 1 | proxy topic: microbiology, virology, pathogens and infectious-disease mechanisms, microbial genetics and genetic engineering of microbes, at textbook level |
| `hard_positive` | 1 | proxy-topic text that uses few obvious keywords (a particle's "outer coat", "small circular DNA molecules", the history of research institutes, narrative histories of epidemics) |
| `general` | 0 | everyday encyclopedia topics (sport, finance, cooking, astronomy, history, software, music, law, travel, ...) |
| `biomed_negative` | 0 | general biology and general medicine (botany, zoology, ecology, anatomy, plant/animal genetics, nutrition, nursing, cardiology, dentistry, physiotherapy, orthopaedics, mental health); removing these would be collateral damage |
| `lexical_trap` | 0 | off-topic text sharing the target's vocabulary: cell phones, computer viruses, vectors in mathematics, culture in the arts, network and TV hosts, vaccine *policy* news written as politics/economics, "going viral", bugs "infecting" spreadsheets, a punk band called the Germs |

## Class balance

{balance}

## Document lengths and file sizes

{lengths}

## Sentence banks

{banks}
"""


def main(argv: list[str]) -> int:
    t0 = time.perf_counter()
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    seen: set[str] = set()

    splits = {}
    for i, split in enumerate(("train", "test")):
        rows = draw_rows(random.Random(SEED + i), LABELLED_PLAN[split], split, seen)
        for j, r in enumerate(rows):
            r["id"] = f"{split}-{j:05d}"
        splits[split] = rows

    shards = {}
    for s in range(N_SHARDS):
        rows = draw_rows(random.Random(SEED + 1000 * (s + 1)), SHARD_PLAN, "all", seen)
        for j, r in enumerate(rows):
            r["id"] = f"demo-{s:04d}-{j:05d}"
        shards[f"demo-{s:04d}"] = rows

    named = []
    sizes = {}
    for split, rows in splits.items():
        p = out / "labelled" / f"{split}.parquet"
        write_parquet(rows, p)
        named.append((f"labelled/{split}.parquet", rows))
        sizes[named[-1][0]] = p.stat().st_size
    for name, rows in shards.items():
        p = out / "shards" / f"{name}.parquet"
        write_parquet(rows, p)
        named.append((f"shards/{name}.parquet", rows))
        sizes[named[-1][0]] = p.stat().st_size
    all_shards = [r for rows in shards.values() for r in rows]
    balance_rows = named + [("shards/ (all)", all_shards)]
    sizes["shards/ (all)"] = sum(v for k, v in sizes.items() if k.startswith("shards/"))

    readme = README_TEMPLATE.format(
        seed=SEED, mix_pct=round(100 * MIX_IN_PROB), min_words=MIN_WORDS,
        max_words=MAX_WORDS, n_train=len(splits["train"]), n_test=len(splits["test"]),
        n_shards=N_SHARDS, shard_size=sum(SHARD_PLAN.values()),
        balance=balance_table(balance_rows), lengths=length_table(balance_rows, sizes),
        banks=bank_table())
    (out / "README.md").write_text(readme, encoding="utf-8")

    print(balance_table(balance_rows))
    print()
    print(length_table(balance_rows, sizes))
    print(f"\n{len(BANKS)} banks; wrote to {out} in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
