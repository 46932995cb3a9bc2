#!/usr/bin/env python3
"""Build the built-in ``sql-mini`` text-to-SQL benchmark, deterministically, in Spider's layout.

    python scripts/build_sql_mini.py [--out DIR]

Writes (default: ``src/steadyhand/environments/sql/data/sql_mini``)::

    dev.json                                   questions, gold SQL, difficulty (+ evidence)
    tables.json                                Spider-format schema description
    database/<db>/<db>.sqlite                  the main database
    database/<db>/<db>_variant<k>.sqlite       same schema, other seeded content (test-suite scoring)

Three databases (school, store, concerts) with foreign keys and a few hundred
seeded rows each. Every gold query is checked on every database: it must run and
return a non-empty, non-NULL result, and questions that ask for the top rows by a
value must not have ties at the cut, so each question has exactly one answer.
Running the script twice produces the same data.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import shutil
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "steadyhand" / "environments" / "sql" / "data" / "sql_mini"
#: Seeds of the main database and of its variants.
SEEDS = {"main": 7, "variant1": 1007, "variant2": 2007}

FIRST_NAMES = ["Ava", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Isabel", "Jonas", "Keira",
               "Liam", "Maya", "Noah", "Olivia", "Pavel", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Vera",
               "Wen", "Ximena", "Yusuf", "Zoe", "Aaron", "Bianca", "Caleb", "Dalia"]
LAST_NAMES = ["Adams", "Baker", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ibrahim", "Jensen",
              "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka",
              "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhang"]


def people(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """``n`` distinct (first, last) name pairs."""
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    return rng.sample(pairs, n)


def day(rng: random.Random, start: str, end: str) -> str:
    a, b = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
    return (a + datetime.timedelta(days=rng.randrange((b - a).days + 1))).isoformat()


def vary(rng: random.Random, n: int) -> int:
    """``n`` give or take 10% (so variant databases differ in size too)."""
    return n + rng.randint(-n // 10, n // 10)


# --- schemas and content ---------------------------------------------------------------------

SCHOOL_DDL = """
CREATE TABLE departments (
  dept_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  building TEXT NOT NULL,
  budget INTEGER NOT NULL
);
CREATE TABLE teachers (
  teacher_id INTEGER PRIMARY KEY,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  dept_id INTEGER NOT NULL REFERENCES departments(dept_id),
  hire_year INTEGER NOT NULL,
  salary INTEGER NOT NULL
);
CREATE TABLE students (
  student_id INTEGER PRIMARY KEY,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  birth_year INTEGER NOT NULL,
  city TEXT NOT NULL,
  enrollment_year INTEGER NOT NULL
);
CREATE TABLE courses (
  course_id INTEGER PRIMARY KEY,
  title TEXT NOT NULL UNIQUE,
  dept_id INTEGER NOT NULL REFERENCES departments(dept_id),
  teacher_id INTEGER NOT NULL REFERENCES teachers(teacher_id),
  credits INTEGER NOT NULL
);
CREATE TABLE enrollments (
  student_id INTEGER NOT NULL REFERENCES students(student_id),
  course_id INTEGER NOT NULL REFERENCES courses(course_id),
  semester TEXT NOT NULL,
  grade INTEGER,
  PRIMARY KEY (student_id, course_id)
);
"""

DEPARTMENTS = {
    "Mathematics": ["Linear Algebra", "Calculus I", "Probability", "Number Theory", "Topology"],
    "Physics": ["Mechanics", "Electromagnetism", "Quantum Physics", "Optics", "Thermodynamics"],
    "Biology": ["Genetics", "Cell Biology", "Ecology", "Microbiology", "Botany"],
    "History": ["Ancient Rome", "Modern Europe", "World War II", "History of Science", "Medieval Trade"],
    "Literature": ["Poetry Workshop", "The Novel", "Shakespeare", "Literary Theory", "Creative Writing"],
    "Computer Science": ["Algorithms", "Databases", "Operating Systems", "Machine Learning", "Compilers"],
}
BUILDINGS = ["North Hall", "South Hall", "Science Center", "Main Building"]
CITIES = ["Springfield", "Riverton", "Lakeside", "Hillview", "Fairport"]


def fill_school(conn: sqlite3.Connection, rng: random.Random) -> None:
    buildings = rng.sample(BUILDINGS, len(BUILDINGS))
    budgets = rng.sample(range(150_000, 900_001, 5_000), len(DEPARTMENTS))
    for i, name in enumerate(DEPARTMENTS):
        building = buildings[i] if i < len(buildings) else rng.choice(BUILDINGS)
        conn.execute("INSERT INTO departments VALUES (?, ?, ?, ?)", (i + 1, name, building, budgets[i]))
    n_teachers = vary(rng, 24)
    salaries = rng.sample(range(42_000, 125_001, 250), n_teachers)
    for t, (first, last) in enumerate(people(rng, n_teachers)):
        dept = t % len(DEPARTMENTS) + 1 if t < 2 * len(DEPARTMENTS) else rng.randint(1, len(DEPARTMENTS))
        conn.execute("INSERT INTO teachers VALUES (?, ?, ?, ?, ?, ?)",
                     (t + 1, first, last, dept, rng.randint(1990, 2023), salaries[t]))
    teachers_by_dept: dict[int, list[int]] = {}
    for tid, dept in conn.execute("SELECT teacher_id, dept_id FROM teachers ORDER BY teacher_id"):
        teachers_by_dept.setdefault(dept, []).append(tid)
    course_id = 0
    for d, titles in enumerate(DEPARTMENTS.values(), start=1):
        for title in titles:
            course_id += 1
            conn.execute("INSERT INTO courses VALUES (?, ?, ?, ?, ?)",
                         (course_id, title, d, rng.choice(teachers_by_dept[d]), rng.randint(2, 5)))
    n_students = vary(rng, 160)
    for s, (first, last) in enumerate(people(rng, n_students)):
        conn.execute("INSERT INTO students VALUES (?, ?, ?, ?, ?, ?)",
                     (s + 1, first, last, rng.randint(1998, 2006), rng.choice(CITIES), rng.randint(2019, 2024)))
    asked = {1, 26}  # courses the questions name (Linear Algebra, Algorithms) have students
    unused = set(rng.sample([c for c in range(1, course_id + 1) if c not in asked], 2))  # courses nobody takes
    open_courses = [c for c in range(1, course_id + 1) if c not in unused]
    for s in range(1, n_students + 1):
        for c in sorted(rng.sample(open_courses, rng.randint(2, 5))):
            grade = None if rng.random() < 0.06 else rng.randint(45, 100)
            conn.execute("INSERT INTO enrollments VALUES (?, ?, ?, ?)",
                         (s, c, rng.choice(["Fall 2023", "Spring 2024"]), grade))


STORE_DDL = """
CREATE TABLE customers (
  customer_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  city TEXT NOT NULL,
  country TEXT NOT NULL,
  signup_date DATE NOT NULL
);
CREATE TABLE categories (
  category_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE products (
  product_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  category_id INTEGER NOT NULL REFERENCES categories(category_id),
  price REAL NOT NULL,
  stock INTEGER NOT NULL
);
CREATE TABLE orders (
  order_id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(customer_id),
  order_date DATE NOT NULL,
  status TEXT NOT NULL
);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL REFERENCES orders(order_id),
  product_id INTEGER NOT NULL REFERENCES products(product_id),
  quantity INTEGER NOT NULL,
  unit_price REAL NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
"""

PRODUCTS = {
    "Electronics": ["Wireless Mouse", "USB-C Charger", "Bluetooth Speaker", "Noise-Cancelling Headphones",
                    "Webcam", "Mechanical Keyboard", "Portable SSD"],
    "Books": ["The Data Detective", "Cooking for Two", "A Short History of Maps", "Learning SQL",
              "Mountain Poems", "The Night Garden"],
    "Home & Kitchen": ["Cast Iron Pan", "Coffee Grinder", "Bamboo Cutting Board", "Electric Kettle",
                       "Glass Food Containers", "Table Lamp", "Wool Throw Blanket"],
    "Sports": ["Yoga Mat", "Resistance Bands", "Trail Backpack", "Water Bottle", "Tennis Racket", "Cycling Gloves"],
    "Toys": ["Wooden Blocks", "Puzzle 1000 Pieces", "Toy Train Set", "Kite", "Board Game Night"],
    "Clothing": ["Rain Jacket", "Wool Socks", "Running Shoes", "Denim Jacket", "Sun Hat", "Fleece Hoodie",
                 "Linen Shirt"],
}
CITY_COUNTRY = [("Boston", "USA"), ("Denver", "USA"), ("Seattle", "USA"), ("Toronto", "Canada"),
                ("Vancouver", "Canada"), ("Leeds", "UK"), ("Bristol", "UK"), ("Munich", "Germany"),
                ("Hamburg", "Germany"), ("Lyon", "France"), ("Nantes", "France")]
CITY_WEIGHTS = [4, 3, 3, 2, 2, 2, 1, 2, 2, 2, 1]
STATUSES = ["delivered"] * 6 + ["shipped"] * 2 + ["pending", "cancelled"]


def fill_store(conn: sqlite3.Connection, rng: random.Random) -> None:
    n_customers = vary(rng, 120)
    for c, (first, last) in enumerate(people(rng, n_customers), start=1):
        city, country = (CITY_COUNTRY[c - 1] if c <= len(CITY_COUNTRY)
                         else rng.choices(CITY_COUNTRY, weights=CITY_WEIGHTS)[0])
        conn.execute("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
                     (c, f"{first} {last}", f"{first}.{last}{c}@example.com".lower(), city, country,
                      day(rng, "2021-01-01", "2023-12-31")))
    names = [(cat, p) for cat, products in PRODUCTS.items() for p in products]
    prices = rng.sample(range(399, 25_000, 7), len(names))  # distinct prices, in cents
    for i, cat in enumerate(PRODUCTS, start=1):
        conn.execute("INSERT INTO categories VALUES (?, ?)", (i, cat))
    category_ids = {cat: i for i, cat in enumerate(PRODUCTS, start=1)}
    sold_out = set(rng.sample(range(1, len(names) + 1), 4))
    for p, (cat, name) in enumerate(names, start=1):
        stock = 0 if p in sold_out else rng.randint(1, 200)
        conn.execute("INSERT INTO products VALUES (?, ?, ?, ?, ?)",
                     (p, name, category_ids[cat], prices[p - 1] / 100, stock))
    price_of = dict(conn.execute("SELECT product_id, price FROM products"))
    n_orders = vary(rng, 300)
    buyers = list(range(1, n_customers + 1))
    rng.shuffle(buyers)
    buyers = buyers[: int(n_customers * 0.85)]  # some customers never order
    for o in range(1, n_orders + 1):
        conn.execute("INSERT INTO orders VALUES (?, ?, ?, ?)",
                     (o, rng.choice(buyers), day(rng, "2022-01-01", "2024-12-31"), rng.choice(STATUSES)))
        for p in sorted(rng.sample(range(1, len(names) + 1), rng.randint(1, 4))):
            conn.execute("INSERT INTO order_items VALUES (?, ?, ?, ?)", (o, p, rng.randint(1, 5), price_of[p]))


CONCERTS_DDL = """
CREATE TABLE artists (
  artist_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  genre TEXT NOT NULL,
  country TEXT NOT NULL,
  formed_year INTEGER NOT NULL
);
CREATE TABLE venues (
  venue_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  city TEXT NOT NULL,
  capacity INTEGER NOT NULL
);
CREATE TABLE concerts (
  concert_id INTEGER PRIMARY KEY,
  artist_id INTEGER NOT NULL REFERENCES artists(artist_id),
  venue_id INTEGER NOT NULL REFERENCES venues(venue_id),
  concert_date DATE NOT NULL,
  ticket_price INTEGER NOT NULL,
  attendance INTEGER NOT NULL
);
CREATE TABLE albums (
  album_id INTEGER PRIMARY KEY,
  artist_id INTEGER NOT NULL REFERENCES artists(artist_id),
  title TEXT NOT NULL,
  release_year INTEGER NOT NULL,
  sales INTEGER NOT NULL
);
"""

ARTISTS = ["The Copper Lanterns", "Velvet Static", "Northern Drift", "Blue Orchard", "Mira Sol", "Paper Comets",
           "The Quiet Engines", "Saffron Tide", "Lowland Choir", "Neon Harbor", "Ivory Fox", "Echo Parade",
           "Glass Meridian", "The Wandering Keys", "Solar Mosaic", "Juniper Road", "Midnight Atlas", "Coral Static",
           "Iron Willow", "The Amber Years", "Hollow Pines", "Kite Collective", "Lumen Drive", "Marble Ghosts",
           "Oak & Ember", "Polar Signal", "Rust Belt Trio", "Silver Tongues", "Tin Roof Revival", "Wild Cartographers"]
GENRES = ["Rock", "Jazz", "Pop", "Electronic", "Folk"]
COUNTRIES = ["USA", "UK", "Sweden", "Brazil", "Japan", "Canada"]
VENUES = [("Harbor Arena", "Boston"), ("The Blue Room", "Chicago"), ("Riverside Hall", "Austin"),
          ("Lakefront Pavilion", "Chicago"), ("The Foundry", "Austin"), ("Echo Theater", "Seattle"),
          ("Granite Stage", "Denver"), ("Moonlight Club", "Boston"), ("Union Ballroom", "Chicago"),
          ("Canyon Amphitheater", "Denver"), ("Pier 9", "Seattle"), ("The Velvet Lounge", "Austin")]
TITLE_A = ["Quiet", "Golden", "Electric", "Hidden", "Endless", "Paper", "Broken", "Silent", "Neon", "Distant"]
TITLE_B = ["Rivers", "Hours", "Signals", "Gardens", "Roads", "Skies", "Letters", "Machines", "Tides", "Rooms"]


def fill_concerts(conn: sqlite3.Connection, rng: random.Random) -> None:
    years = rng.sample(range(1965, 2019), len(ARTISTS))  # distinct: "formed earliest" has one answer
    for a, name in enumerate(ARTISTS, start=1):
        genre = GENRES[a % len(GENRES)] if a <= 2 * len(GENRES) else rng.choice(GENRES)
        country = COUNTRIES[a % len(COUNTRIES)] if a <= len(COUNTRIES) else rng.choice(COUNTRIES)
        conn.execute("INSERT INTO artists VALUES (?, ?, ?, ?, ?)", (a, name, genre, country, years[a - 1]))
    capacities = rng.sample(range(300, 20_001, 50), len(VENUES))
    for v, (name, city) in enumerate(VENUES, start=1):
        conn.execute("INSERT INTO venues VALUES (?, ?, ?, ?)", (v, name, city, capacities[v - 1]))
    for c in range(1, vary(rng, 150) + 1):
        venue = rng.randint(1, len(VENUES))
        capacity = capacities[venue - 1]
        attendance = capacity if rng.random() < 0.1 else rng.randint(capacity // 4, capacity - 1)
        conn.execute("INSERT INTO concerts VALUES (?, ?, ?, ?, ?, ?)",
                     (c, rng.randint(1, len(ARTISTS) - 2), venue, day(rng, "2021-01-01", "2024-12-31"),
                      rng.randint(20, 150), attendance))
    titles = rng.sample([f"{a} {b}" for a in TITLE_A for b in TITLE_B], vary(rng, 70))
    sales = rng.sample(range(1_000, 900_000, 37), len(titles))
    formed = dict(conn.execute("SELECT artist_id, formed_year FROM artists"))
    for i, title in enumerate(titles, start=1):
        artist = rng.randint(1, len(ARTISTS))
        conn.execute("INSERT INTO albums VALUES (?, ?, ?, ?, ?)",
                     (i, artist, title, rng.randint(max(formed[artist], 1990), 2024), sales[i - 1]))


@dataclass(frozen=True)
class Database:
    name: str
    ddl: str
    fill: Callable[[sqlite3.Connection, random.Random], None]


DATABASES = [Database("school", SCHOOL_DDL, fill_school), Database("store", STORE_DDL, fill_store),
             Database("concerts", CONCERTS_DDL, fill_concerts)]


# --- questions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One item. ``top`` (k, key SQL): the gold keeps the first k rows of ``key``'s order; no tie at the cut."""

    db_id: str
    difficulty: str
    question: str
    query: str
    evidence: str = ""
    top: tuple[int, str] | None = None


Q = Question
QUESTIONS = [
    # school
    Q("school", "easy", "How many students are there?", "SELECT count(*) FROM students"),
    Q("school", "easy", "List the names of all departments located in the building 'Science Center'.",
      "SELECT name FROM departments WHERE building = 'Science Center'"),
    Q("school", "easy", "What is the highest salary of any teacher?", "SELECT max(salary) FROM teachers"),
    Q("school", "easy", "How many students live in Riverton?",
      "SELECT count(*) FROM students WHERE city = 'Riverton'"),
    Q("school", "easy", "List the titles of the courses worth 5 credits.",
      "SELECT title FROM courses WHERE credits = 5"),
    Q("school", "easy", "How many enrollments do not have a grade yet?",
      "SELECT count(*) FROM enrollments WHERE grade IS NULL",
      evidence="an enrollment without a grade has a NULL grade"),
    Q("school", "medium", "For each city, how many students live there? Return the city and the number of students.",
      "SELECT city, count(*) FROM students GROUP BY city"),
    Q("school", "medium", "What is the average grade in the course 'Linear Algebra'?",
      "SELECT avg(T1.grade) FROM enrollments AS T1 JOIN courses AS T2 ON T1.course_id = T2.course_id "
      "WHERE T2.title = 'Linear Algebra'", evidence="enrollments without a grade are not counted in the average"),
    Q("school", "medium", "List the first and last names of the teachers of the Physics department.",
      "SELECT T1.first_name, T1.last_name FROM teachers AS T1 JOIN departments AS T2 ON T1.dept_id = T2.dept_id "
      "WHERE T2.name = 'Physics'"),
    Q("school", "medium", "How many courses does each department offer? Return the department name and the number "
      "of courses.",
      "SELECT T2.name, count(*) FROM courses AS T1 JOIN departments AS T2 ON T1.dept_id = T2.dept_id "
      "GROUP BY T2.name"),
    Q("school", "medium", "List the first and last names of the three best-paid teachers, highest salary first.",
      "SELECT first_name, last_name FROM teachers ORDER BY salary DESC LIMIT 3",
      top=(3, "SELECT salary FROM teachers ORDER BY salary DESC")),
    Q("school", "hard", "List the titles of the courses in which no student is enrolled.",
      "SELECT title FROM courses WHERE course_id NOT IN (SELECT course_id FROM enrollments)"),
    Q("school", "hard", "Which students have an average grade above 85? Return their first and last names.",
      "SELECT T1.first_name, T1.last_name FROM students AS T1 JOIN enrollments AS T2 "
      "ON T1.student_id = T2.student_id GROUP BY T1.student_id HAVING avg(T2.grade) > 85"),
    Q("school", "hard", "What is the name of the department whose courses have the highest average grade?",
      "SELECT T3.name FROM enrollments AS T1 JOIN courses AS T2 ON T1.course_id = T2.course_id "
      "JOIN departments AS T3 ON T2.dept_id = T3.dept_id GROUP BY T3.dept_id ORDER BY avg(T1.grade) DESC LIMIT 1",
      evidence="average over all graded enrollments in the department's courses",
      top=(1, "SELECT avg(T1.grade) AS g FROM enrollments AS T1 JOIN courses AS T2 ON T1.course_id = T2.course_id "
              "GROUP BY T2.dept_id ORDER BY g DESC")),
    Q("school", "hard", "How many different students are enrolled in at least one course taught by a teacher of "
      "the Computer Science department?",
      "SELECT count(DISTINCT T1.student_id) FROM enrollments AS T1 JOIN courses AS T2 ON T1.course_id = T2.course_id "
      "JOIN teachers AS T3 ON T2.teacher_id = T3.teacher_id JOIN departments AS T4 ON T3.dept_id = T4.dept_id "
      "WHERE T4.name = 'Computer Science'"),
    Q("school", "hard", "List the first and last names of the teachers who teach more than one course.",
      "SELECT T1.first_name, T1.last_name FROM teachers AS T1 JOIN courses AS T2 ON T1.teacher_id = T2.teacher_id "
      "GROUP BY T1.teacher_id HAVING count(*) > 1"),
    # store
    Q("store", "easy", "How many customers are from Canada?",
      "SELECT count(*) FROM customers WHERE country = 'Canada'"),
    Q("store", "easy", "List the names of the products that are out of stock.",
      "SELECT name FROM products WHERE stock = 0", evidence="out of stock means a stock of 0"),
    Q("store", "easy", "What is the price of the product 'Wireless Mouse'?",
      "SELECT price FROM products WHERE name = 'Wireless Mouse'"),
    Q("store", "easy", "How many orders have the status 'cancelled'?",
      "SELECT count(*) FROM orders WHERE status = 'cancelled'"),
    Q("store", "easy", "What is the earliest signup date of any customer?", "SELECT min(signup_date) FROM customers"),
    Q("store", "medium", "How many products are there in each category? Return the category name and the number of "
      "products.",
      "SELECT T2.name, count(*) FROM products AS T1 JOIN categories AS T2 ON T1.category_id = T2.category_id "
      "GROUP BY T2.name"),
    Q("store", "medium", "List the names of the customers who placed an order on or after 2024-06-01, each name once.",
      "SELECT DISTINCT T1.name FROM customers AS T1 JOIN orders AS T2 ON T1.customer_id = T2.customer_id "
      "WHERE T2.order_date >= '2024-06-01'"),
    Q("store", "medium", "What is the total quantity of 'Yoga Mat' ordered over all orders?",
      "SELECT sum(T1.quantity) FROM order_items AS T1 JOIN products AS T2 ON T1.product_id = T2.product_id "
      "WHERE T2.name = 'Yoga Mat'"),
    Q("store", "medium", "Which country has the most customers?",
      "SELECT country FROM customers GROUP BY country ORDER BY count(*) DESC LIMIT 1",
      top=(1, "SELECT count(*) AS n FROM customers GROUP BY country ORDER BY n DESC")),
    Q("store", "medium", "What is the average price of the products in the 'Books' category?",
      "SELECT avg(T1.price) FROM products AS T1 JOIN categories AS T2 ON T1.category_id = T2.category_id "
      "WHERE T2.name = 'Books'"),
    Q("store", "medium", "List the names of the five most expensive products, most expensive first.",
      "SELECT name FROM products ORDER BY price DESC LIMIT 5",
      top=(5, "SELECT price FROM products ORDER BY price DESC")),
    Q("store", "hard", "What is the revenue of delivered orders in each category, rounded to two decimals? Return the "
      "category name and the revenue.",
      "SELECT T4.name, round(sum(T2.quantity * T2.unit_price), 2) FROM orders AS T1 JOIN order_items AS T2 "
      "ON T1.order_id = T2.order_id JOIN products AS T3 ON T2.product_id = T3.product_id JOIN categories AS T4 "
      "ON T3.category_id = T4.category_id WHERE T1.status = 'delivered' GROUP BY T4.name",
      evidence="revenue is the sum of quantity * unit_price over order items"),
    Q("store", "hard", "Which customers have never placed an order? Return their names.",
      "SELECT name FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM orders)"),
    Q("store", "hard", "What is the name of the customer who spent the most on delivered orders?",
      "SELECT T1.name FROM customers AS T1 JOIN orders AS T2 ON T1.customer_id = T2.customer_id JOIN order_items AS T3 "
      "ON T2.order_id = T3.order_id WHERE T2.status = 'delivered' GROUP BY T1.customer_id "
      "ORDER BY sum(T3.quantity * T3.unit_price) DESC LIMIT 1",
      evidence="money spent is the sum of quantity * unit_price over the items of the customer's orders",
      top=(1, "SELECT round(sum(T3.quantity * T3.unit_price), 2) AS s FROM orders AS T2 JOIN order_items AS T3 "
              "ON T2.order_id = T3.order_id WHERE T2.status = 'delivered' GROUP BY T2.customer_id ORDER BY s DESC")),
    Q("store", "hard", "List the names of the products that were ordered both by customers from Germany and by "
      "customers from France.",
      "SELECT T3.name FROM customers AS T1 JOIN orders AS T2 ON T1.customer_id = T2.customer_id JOIN order_items AS T4 "
      "ON T2.order_id = T4.order_id JOIN products AS T3 ON T4.product_id = T3.product_id WHERE T1.country = 'Germany' "
      "INTERSECT SELECT T3.name FROM customers AS T1 JOIN orders AS T2 ON T1.customer_id = T2.customer_id "
      "JOIN order_items AS T4 ON T2.order_id = T4.order_id JOIN products AS T3 ON T4.product_id = T3.product_id "
      "WHERE T1.country = 'France'"),
    Q("store", "hard", "How many orders have a total quantity, summed over their items, greater than 10?",
      "SELECT count(*) FROM (SELECT order_id FROM order_items GROUP BY order_id HAVING sum(quantity) > 10)"),
    # concerts
    Q("concerts", "easy", "How many artists play Jazz?", "SELECT count(*) FROM artists WHERE genre = 'Jazz'"),
    Q("concerts", "easy", "What is the capacity of the venue 'Harbor Arena'?",
      "SELECT capacity FROM venues WHERE name = 'Harbor Arena'"),
    Q("concerts", "easy", "List the names of the venues in Austin.", "SELECT name FROM venues WHERE city = 'Austin'"),
    Q("concerts", "easy", "How many concerts took place in 2023?",
      "SELECT count(*) FROM concerts WHERE concert_date BETWEEN '2023-01-01' AND '2023-12-31'"),
    Q("concerts", "easy", "Which artist was formed earliest? Return the name.",
      "SELECT name FROM artists ORDER BY formed_year LIMIT 1",
      top=(1, "SELECT formed_year FROM artists ORDER BY formed_year")),
    Q("concerts", "medium", "How many concerts did each artist give? Return the artist name and the number of "
      "concerts, for artists with at least one concert.",
      "SELECT T1.name, count(*) FROM artists AS T1 JOIN concerts AS T2 ON T1.artist_id = T2.artist_id "
      "GROUP BY T1.artist_id"),
    Q("concerts", "medium", "What is the total attendance of all concerts held at 'Harbor Arena'?",
      "SELECT sum(T1.attendance) FROM concerts AS T1 JOIN venues AS T2 ON T1.venue_id = T2.venue_id "
      "WHERE T2.name = 'Harbor Arena'"),
    Q("concerts", "medium", "List the titles of the albums released by artists from Sweden.",
      "SELECT T1.title FROM albums AS T1 JOIN artists AS T2 ON T1.artist_id = T2.artist_id "
      "WHERE T2.country = 'Sweden'"),
    Q("concerts", "medium", "What is the average ticket price of concerts by Rock artists?",
      "SELECT avg(T1.ticket_price) FROM concerts AS T1 JOIN artists AS T2 ON T1.artist_id = T2.artist_id "
      "WHERE T2.genre = 'Rock'"),
    Q("concerts", "medium", "Which venue hosted the most concerts? Return its name.",
      "SELECT T2.name FROM concerts AS T1 JOIN venues AS T2 ON T1.venue_id = T2.venue_id GROUP BY T2.venue_id "
      "ORDER BY count(*) DESC LIMIT 1",
      top=(1, "SELECT count(*) AS n FROM concerts GROUP BY venue_id ORDER BY n DESC")),
    Q("concerts", "medium", "For each genre, how many album copies were sold in total? Return the genre and the total.",
      "SELECT T2.genre, sum(T1.sales) FROM albums AS T1 JOIN artists AS T2 ON T1.artist_id = T2.artist_id "
      "GROUP BY T2.genre"),
    Q("concerts", "hard", "List the names of the artists who have never performed at a venue in Chicago.",
      "SELECT name FROM artists WHERE artist_id NOT IN (SELECT T1.artist_id FROM concerts AS T1 JOIN venues AS T2 "
      "ON T1.venue_id = T2.venue_id WHERE T2.city = 'Chicago')"),
    Q("concerts", "hard", "Which artists released an album in a year in which they also gave a concert? Return "
      "each artist's name once.",
      "SELECT DISTINCT T1.name FROM artists AS T1 JOIN albums AS T2 ON T1.artist_id = T2.artist_id "
      "JOIN concerts AS T3 ON T1.artist_id = T3.artist_id "
      "WHERE CAST(strftime('%Y', T3.concert_date) AS INTEGER) = T2.release_year"),
    Q("concerts", "hard", "What is the name of the artist whose concerts had the highest average attendance?",
      "SELECT T1.name FROM artists AS T1 JOIN concerts AS T2 ON T1.artist_id = T2.artist_id GROUP BY T1.artist_id "
      "ORDER BY avg(T2.attendance) DESC LIMIT 1",
      top=(1, "SELECT avg(attendance) AS a FROM concerts GROUP BY artist_id ORDER BY a DESC")),
    Q("concerts", "hard", "List the names of the venues where both Jazz artists and Rock artists have performed.",
      "SELECT T3.name FROM concerts AS T1 JOIN artists AS T2 ON T1.artist_id = T2.artist_id JOIN venues AS T3 "
      "ON T1.venue_id = T3.venue_id WHERE T2.genre = 'Jazz' INTERSECT SELECT T3.name FROM concerts AS T1 "
      "JOIN artists AS T2 ON T1.artist_id = T2.artist_id JOIN venues AS T3 ON T1.venue_id = T3.venue_id "
      "WHERE T2.genre = 'Rock'"),
    Q("concerts", "hard", "How many concerts were sold out?",
      "SELECT count(*) FROM concerts AS T1 JOIN venues AS T2 ON T1.venue_id = T2.venue_id "
      "WHERE T1.attendance = T2.capacity",
      evidence="a concert is sold out when its attendance equals the capacity of its venue"),
]


# --- writing ---------------------------------------------------------------------------------


def build_database(path: Path, db: Database, seed: int) -> None:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executescript(db.ddl)
        db.fill(conn, random.Random(f"{db.name}-{seed}"))
        conn.commit()
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise SystemExit(f"{path}: foreign key violations: {problems[:5]}")
        conn.execute("VACUUM")
    finally:
        conn.close()


_TYPES = {"INTEGER": "number", "REAL": "number", "NUMERIC": "number", "TEXT": "text", "DATE": "time"}


def spider_tables_entry(path: Path, db_id: str) -> dict[str, object]:
    """The ``tables.json`` entry of one database, in Spider's format."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
        columns: list[list[object]] = [[-1, "*"]]
        natural: list[list[object]] = [[-1, "*"]]
        types = ["text"]
        primary: list[int] = []
        index: dict[tuple[str, str], int] = {}
        for t, table in enumerate(tables):
            for _, name, kind, _, _, pk in conn.execute(f'PRAGMA table_info("{table}")'):
                index[(table, name)] = len(columns)
                if pk:
                    primary.append(len(columns))
                columns.append([t, name])
                natural.append([t, name.replace("_", " ")])
                types.append(_TYPES.get(kind.upper(), "others"))
        foreign = []
        for table in tables:
            for row in conn.execute(f'PRAGMA foreign_key_list("{table}")'):
                foreign.append([index[(table, row[3])], index[(row[2], row[4])]])
    finally:
        conn.close()
    return {"db_id": db_id, "table_names_original": tables, "table_names": [t.replace("_", " ") for t in tables],
            "column_names_original": columns, "column_names": natural, "column_types": types,
            "primary_keys": primary, "foreign_keys": foreign}


def check_question(q: Question, path: Path) -> None:
    """The gold query must return a non-empty, non-NULL result with no tie at a top-k cut."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(q.query).fetchall()
        if not rows or all(v is None for row in rows for v in row):
            raise SystemExit(f"{path.name}: empty result for {q.question!r}")
        if q.top is not None:
            k, key_sql = q.top
            keys = [r[0] for r in conn.execute(key_sql).fetchall()]
            if len(keys) > k and keys[k - 1] == keys[k]:
                raise SystemExit(f"{path.name}: tie at the top-{k} cut for {q.question!r} ({keys[: k + 1]})")
    finally:
        conn.close()


def build(out: Path) -> dict[str, int]:
    """Write the benchmark to ``out`` (replacing it); returns counts per difficulty."""
    if out.exists():
        shutil.rmtree(out)
    (out / "database").mkdir(parents=True)
    tables = []
    for db in DATABASES:
        folder = out / "database" / db.name
        folder.mkdir()
        for label, seed in SEEDS.items():
            name = f"{db.name}.sqlite" if label == "main" else f"{db.name}_{label}.sqlite"
            build_database(folder / name, db, seed)
        tables.append(spider_tables_entry(folder / f"{db.name}.sqlite", db.name))
    items = []
    counts: dict[str, int] = {}
    for q in QUESTIONS:
        for path in sorted((out / "database" / q.db_id).glob("*.sqlite")):
            check_question(q, path)
        item = {"db_id": q.db_id, "question": q.question, "query": q.query, "difficulty": q.difficulty}
        if q.evidence:
            item["evidence"] = q.evidence
        items.append(item)
        counts[q.difficulty] = counts.get(q.difficulty, 0) + 1
    (out / "dev.json").write_text(json.dumps(items, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "tables.json").write_text(json.dumps(tables, indent=1) + "\n", encoding="utf-8")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    counts = build(args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"sql-mini: {len(QUESTIONS)} questions ({', '.join(f'{k} {v}' for k, v in counts.items())}), "
          f"{len(DATABASES)} databases x {len(SEEDS)} variants, {size / 1024:.0f} KiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
