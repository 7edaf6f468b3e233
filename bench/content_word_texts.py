"""Texts for bench/calibrate_content_words.py: (text, the same text with one or two content words swapped).

Written for this bench, unlike the five standard scenarios: numbers, dates,
names, brand names, homophones, short and long sentences. The first half tunes
the rule, the second half is held out (never looked at while tuning).
"""

PAIRS: list[tuple[str, str]] = [
    # ---- tuning half
    ("The museum opens at nine in the morning, Monday to Friday, and on Sundays.",
     "The stadium opens at nine in the morning, Monday to Friday, and on Mondays."),
    ("Please bring your passport to the airport.", "Please bring your wallet to the airport."),
    ("The train to Boston leaves from platform four.", "The train to Denver leaves from platform four."),
    ("Turn left at the bakery and walk two blocks.", "Turn right at the bakery and walk two blocks."),
    ("My sister bought a red bicycle yesterday.", "My sister bought a blue bicycle yesterday."),
    ("The meeting is scheduled for Tuesday at three thirty.", "The meeting is scheduled for Thursday at three thirty."),
    ("Add two cups of flour and a pinch of salt.", "Add two cups of sugar and a pinch of salt."),
    ("Your order of 250 dollars ships on May fifth.", "Your order of 350 dollars ships on May fifth."),
    ("The doctor will see you in ten minutes.", "The dentist will see you in ten minutes."),
    ("We heard the rain on the window all night.", "We heard the wind on the window all night."),
    ("Anna and Peter moved to Chicago in 2019.", "Anna and Peter moved to Seattle in 2019."),
    ("The knight rode through the night to reach the castle.", "The knight rode through the night to reach the river."),
    ("Open the settings menu and choose dark mode.", "Open the settings menu and choose light mode."),
    ("The price of coffee rose by twelve percent this year.", "The price of coffee fell by twelve percent this year."),
    ("Call me when you arrive at the hotel.", "Call me when you arrive at the station."),
    ("Our team won the final match in extra time.", "Our team lost the final match in extra time."),
    ("Water boils at one hundred degrees Celsius.", "Water freezes at one hundred degrees Celsius."),
    ("The cat slept on the warm blanket by the fire.", "The dog slept on the warm blanket by the door."),
    ("Install the update from the LuxTTS website tonight.", "Install the update from the LuxTTS website tomorrow."),
    ("The library closes early on public holidays.", "The library closes late on public holidays."),
    ("She wrote a long letter to her grandmother.", "She wrote a short letter to her grandfather."),
    ("Flight 714 to London is now boarding at gate twelve.", "Flight 714 to Paris is now boarding at gate twelve."),
    ("I'd like a cup of green tea, please.", "I'd like a cup of black tea, please."),
    ("The children planted apple trees in the garden.", "The children planted cherry trees in the garden."),
    # ---- held-out half
    ("The bank opens at eight and closes at five.", "The bank opens at eight and closes at six."),
    ("Mix the paint slowly until the color is even.", "Stir the paint slowly until the color is even."),
    ("Maria teaches history at the local school.", "Maria teaches music at the local school."),
    ("The bus was late because of heavy snow.", "The bus was late because of heavy traffic."),
    ("Please send the report by Friday afternoon.", "Please send the invoice by Friday morning."),
    ("The bridge was built in eighteen ninety.", "The bridge was painted in eighteen ninety."),
    ("He ate a pear and two plums after lunch.", "He ate a peach and two plums after dinner."),
    ("Press the green button to start the engine.", "Press the red button to start the engine."),
    ("The concert starts at seven o'clock sharp.", "The concert ends at seven o'clock sharp."),
    ("Our new office is on the fourth floor.", "Our new office is on the ninth floor."),
    ("The weather will be sunny and warm tomorrow.", "The weather will be cloudy and cold tomorrow."),
    ("Tom fixed the broken chair in the kitchen.", "Tom fixed the broken table in the kitchen."),
    ("The patient needs rest and plenty of water.", "The patient needs rest and plenty of sleep."),
    ("Visit our store on Main Street for a free sample.", "Visit our store on Oak Street for a free sample."),
    ("Their house has a blue door and a small yard.", "Their house has a yellow door and a small yard."),
    ("The lake freezes every winter in January.", "The lake freezes every winter in December."),
    ("Check your email for the confirmation code.", "Check your phone for the confirmation code."),
    ("The pilot announced a short delay.", "The captain announced a long delay."),
    ("Read the instructions before you assemble the desk.", "Read the instructions before you assemble the shelf."),
    ("The bakery sells fresh bread every morning.", "The bakery sells fresh cake every morning."),
    ("The package weighs three kilograms.", "The package weighs seven kilograms."),
    ("Emma plays the violin in the city orchestra.", "Emma plays the cello in the city orchestra."),
    ("Our flight was cancelled due to fog.", "Our flight was delayed due to fog."),
    ("The store sells whole grain flour and fresh berries.", "The store sells whole grain rice and fresh berries."),
]

TUNE = PAIRS[:24]
HOLDOUT = PAIRS[24:]

#: Written 2026-12-05 after bench/content_words_forced.py's limits were seen on the 48 above,
#: to check them on texts never run (set "fresh" of calibrate_content_words.py): 24 new
#: sentences, one or two content words swapped (four swap two), as before.
FRESH: list[tuple[str, str]] = [
    ("The farmer sold twelve eggs at the market.", "The farmer sold twelve apples at the market."),
    ("Her brother works as a nurse in Denver.", "Her brother works as a teacher in Denver."),
    ("The museum shows paintings from the old harbor.", "The museum shows photographs from the old harbor."),
    ("We drove to the coast on Saturday morning.", "We drove to the mountains on Saturday morning."),
    ("Put the milk back in the fridge, please.", "Put the butter back in the fridge, please."),
    ("The printer on the second floor is broken.", "The printer on the third floor is broken."),
    ("My grandfather grew tomatoes and beans.", "My grandfather grew potatoes and beans."),
    ("The meeting moved to room forty two.", "The meeting moved to room fifty two."),
    ("A small boat crossed the quiet river.", "A small plane crossed the quiet valley."),
    ("Lisa found her keys under the sofa.", "Lisa found her glasses under the sofa."),
    ("The soup needs more pepper and garlic.", "The soup needs more salt and garlic."),
    ("Our neighbor walks his dog every evening.", "Our neighbor feeds his dog every evening."),
    ("The train from Berlin arrives at noon.", "The train from Vienna arrives at noon."),
    ("Turn off the lights when you leave the office.", "Turn off the heater when you leave the office."),
    ("The students wrote an essay about the ocean.", "The students wrote a poem about the ocean."),
    ("This jacket costs ninety dollars.", "This jacket costs sixty dollars."),
    ("The baby slept quietly in the car.", "The baby cried loudly in the car."),
    ("He repaired the fence behind the barn.", "He painted the fence behind the barn."),
    ("The hotel offers free breakfast to every guest.", "The hotel offers free parking to every guest."),
    ("Nina bought fresh flowers for her mother.", "Nina bought fresh bread for her mother."),
    ("The clock in the hall stopped at midnight.", "The clock in the hall stopped at noon."),
    ("Wear warm boots when you hike in winter.", "Wear warm gloves when you hike in winter."),
    ("The doctor asked him to drink more water.", "The nurse asked him to drink more tea."),
    ("Sam left his umbrella on the bus.", "Sam left his wallet on the bus."),
]

